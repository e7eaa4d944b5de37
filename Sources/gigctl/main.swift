import ArgumentParser
import GigCTLCore

await GigCTL.runMain()
