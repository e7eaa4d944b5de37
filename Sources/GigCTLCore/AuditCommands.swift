import ArgumentParser
import EventStore
import Foundation
import Projections

struct AuditGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Audit automated decisions for bias.", subcommands: [AuditMatching.self])
}

struct AuditMatching: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matching",
        abstract: "Report whom matching favours: exposure and awards per cohort, four-fifths rule.",
        discussion: """
            For every gig posted in the last --weeks weeks, the top -k candidates and the qualified \
            freelancers (one of its skills, its currency, a budget fit above 0). Per cohort — tenure \
            (newcomer: no contract before the window), country, rate band — its share of top-k \
            places against its share of qualified freelancers, and its share of awards against its \
            share of bids; a cohort whose ratio is under 0.8 of its dimension's best, and below the \
            rest of its dimension by a significant z (one-sided 5 % over all the report's \
            comparisons, Bonferroni), is flagged (cohorts with too few pairs or bids are not judged). Definitions: sql/READ_MODELS.md. \
            --json prints the library's report (docs/JSON.md); --html FILE writes a page with charts.

            The top-k searches run on --workers connections at once, all reading one snapshot of \
            the database (the report equals a run on one connection). Progress of the searches \
            goes to stderr (a bar on a terminal, lines otherwise; not with --json); --verbose also \
            prints each phase's duration there.

            Exit codes: 0 nothing flagged, 1 a cohort flagged, 69 database unavailable, 78 not migrated.
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "Weeks of postings to audit, ending with the latest posting (1–520).") var weeks: Int = 4
    @Option(name: .shortAndLong, help: "Top-k list length (1–100).") var k: Int = 10
    @Option(help: "Connections the top-k searches use at once, sharing one snapshot (1–16).") var workers: Int = 4
    @Option(help: ArgumentHelp("Also write the report as an HTML page with charts.", valueName: "file")) var html:
        String?

    func validate() throws {
        guard (1...520).contains(weeks) else { throw ValidationError("--weeks must be 1…520.") }
        guard (1...100).contains(k) else { throw ValidationError("-k must be 1…100.") }
        guard (1...16).contains(workers) else { throw ValidationError("--workers must be 1…16.") }
    }

    func run() async throws {
        var flagged = false
        try await runReportingErrors(json: global.json) {
            let printer = ProgressPrinter(terminal: isatty(STDERR_FILENO) == 1, quiet: global.json)
            let verbose = global.verbose
            let result = try await global.withReadPool(maxConnections: workers) {
                try await FairnessAudit(pool: $0, workers: workers).run(weeks: weeks, k: k) { progress in
                    switch progress {
                    case .ranked(let done, let total, let seconds):
                        printer.show(
                            "ranking", done: Int64(done), of: Int64(total), events: Int64(done), elapsed: seconds,
                            unit: "gigs")
                    case .phase(let phase, let seconds):
                        if phase == "ranking" { printer.finish() }
                        if verbose { Output.error(String(format: "audit: %@ took %.2f s", phase, seconds)) }
                    }
                }
            }
            flagged = !result.data.flagged.isEmpty
            if let html { try Data(AuditPage.html(result.data).utf8).write(to: URL(filePath: html)) }
            if global.json {
                try Output.json(result)
                return
            }
            let report = result.data
            Output.line(
                "Matching fairness audit: \(report.gigs) gig(s) posted \(Output.timestamp(report.from)) – \(Output.timestamp(report.to)), top \(report.k)"
            )
            Output.table(
                [
                    "DIMENSION", "COHORT", "QUALIFIED", "EXPOSURE", "RATIO", "DISPARITY", "BIDS", "AWARDS", "RATIO",
                    "DISPARITY", "",
                ],
                report.cohorts.map { c in
                    [
                        c.dimension, c.cohort, percent(c.qualifiedShare), percent(c.exposureShare),
                        number(c.exposureRatio), number(c.exposureDisparity), percent(c.bidShare),
                        percent(c.awardShare), number(c.awardRatio), number(c.awardDisparity), c.flagged ? "FLAG" : "",
                    ]
                })
            Output.line(
                report.flagged.isEmpty
                    ? "No cohort flagged (under \(report.threshold) of its dimension's best with z ≥ \(report.criticalZ), \(report.comparisons) comparisons)."
                    : "Flagged (under \(report.threshold) of the best, four-fifths rule, z ≥ \(report.criticalZ)): "
                        + report.flagged.map { "\($0.dimension) \($0.cohort)" }.joined(separator: ", "))
        }
        if flagged { throw ExitCode(1) }
    }

    private func percent(_ share: Double) -> String { String(format: "%.1f%%", share * 100) }
    private func number(_ value: Double?) -> String { value.map { String(format: "%.2f", $0) } ?? "-" }
}

/// The audit as a self-contained HTML page: one bar chart per dimension (exposure and award
/// ratios against the 0.8 line), then the table.
enum AuditPage {
    static func html(_ report: FairnessAudit.Report) -> String {
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        }
        var body = ""
        for dimension in ["tenure", "country", "rateBand"] {
            let cohorts = report.cohorts.filter { $0.dimension == dimension }
            guard !cohorts.isEmpty else { continue }
            let rowHeight = 26
            let height = cohorts.count * rowHeight * 2 + 30
            var svg = "<svg width=\"640\" height=\"\(height)\" role=\"img\" aria-label=\"\(dimension) disparities\">"
            let scale = 400.0
            let line = 160 + Int(scale * report.threshold)
            svg +=
                "<line x1=\"\(line)\" y1=\"0\" x2=\"\(line)\" y2=\"\(height)\" stroke=\"#c00\" stroke-dasharray=\"4\"/>"
            for (i, c) in cohorts.enumerated() {
                for (j, (label, value)) in [("exposure", c.exposureDisparity), ("awards", c.awardDisparity)]
                    .enumerated()
                {
                    let y = (i * 2 + j) * rowHeight + 10
                    let width = Int(scale * min(1, value ?? 0))
                    let colour = (value ?? 1) < report.threshold ? "#c00" : "#4a7"
                    svg += "<text x=\"0\" y=\"\(y + 15)\" font-size=\"12\">\(escape(c.cohort)) · \(label)</text>"
                    svg += "<rect x=\"160\" y=\"\(y)\" width=\"\(width)\" height=\"18\" fill=\"\(colour)\"/>"
                    svg +=
                        "<text x=\"\(166 + width)\" y=\"\(y + 14)\" font-size=\"12\">\(value.map { String(format: "%.2f", $0) } ?? "not judged")</text>"
                }
            }
            svg += "</svg>"
            body +=
                "<h2>\(escape(dimension))</h2><p>Disparity: the cohort's ratio ÷ the best cohort's; the dashed line is \(report.threshold).</p>\(svg)"
        }
        var table =
            "<table><tr><th>dimension</th><th>cohort</th><th>qualified</th><th>exposure</th><th>exposure disparity</th><th>bids</th><th>awards</th><th>award disparity</th><th>flag</th></tr>"
        for c in report.cohorts {
            let cells = [
                c.dimension, c.cohort, String(format: "%.1f%%", c.qualifiedShare * 100),
                String(format: "%.1f%%", c.exposureShare * 100),
                c.exposureDisparity.map { String(format: "%.2f", $0) } ?? "-",
                String(format: "%.1f%%", c.bidShare * 100),
                String(format: "%.1f%%", c.awardShare * 100),
                c.awardDisparity.map { String(format: "%.2f", $0) } ?? "-",
                c.flagged ? "flagged" : "",
            ]
            table += "<tr>" + cells.map { "<td>\(escape($0))</td>" }.joined() + "</tr>"
        }
        table += "</table>"
        return """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Matching fairness audit</title>
            <style>body{font-family:sans-serif;margin:2em}td,th{padding:4px 8px;border-bottom:1px solid #ddd;text-align:left}</style>
            </head><body><h1>Matching fairness audit</h1>
            <p>\(report.gigs) gig(s) posted in the last \(report.weeks) week(s); top \(report.k). A cohort is flagged when its exposure or award ratio is under \(report.threshold) of its dimension's best (the four-fifths rule) and it falls short of the rest of its dimension by z ≥ \(report.criticalZ) (one-sided 5 % over the report's \(report.comparisons) comparisons).</p>
            \(body)\(table)</body></html>
            """
    }
}
