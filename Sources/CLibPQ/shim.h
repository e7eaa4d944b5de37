#ifndef GIGLEDGER_CLIBPQ_SHIM_H
#define GIGLEDGER_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
