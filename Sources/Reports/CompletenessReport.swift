import Audit

/// The completeness section of the text report, and the INCOMPLETE line under the verdict.
enum CompletenessText {
    static func render(_ report: AuditReport, paint: Paint) -> String {
        var out = ""
        for sink in report.sinks { out += "output \(sink.line)\n" }
        let completeness = report.completeness
        guard !completeness.isComplete else { return out }
        out += paint.red("INCOMPLETE") + ": the audit did not see or deliver everything: "
            + completeness.reasons.joined(separator: "; ") + "\n"
        for gap in completeness.gaps {
            var line = "  gap: \(gap.kind)"
            if let start = gap.start { line += " from \(Format.timestamp(start))" }
            if let end = gap.end { line += " to \(Format.timestamp(end))" } else if gap.start != nil { line += " to the end" }
            if let start = gap.start, let end = gap.end { line += " (\(Format.duration(end - start)) s)" }
            out += line + ": \(gap.detail)\n"
        }
        return out
    }

    static func verdictLine(_ report: AuditReport, exitStatus: Int32, paint: Paint) -> String {
        let completeness = report.completeness
        guard !completeness.isComplete else { return "" }
        let allowed = completeness.lossAllowed ? " (--allow-loss: not in the exit status)" : ""
        return paint.red("INCOMPLETE") + ": " + completeness.reasons.joined(separator: "; ")
            + "; missing and blocked verdicts may be wrong\(allowed) (exit \(exitStatus))\n"
    }
}

/// `completeness` and `sinks` of the JSON report (docs/report.md).
enum CompletenessJSON {
    static func completeness(_ c: Completeness) -> String {
        let gaps = c.gaps.map { gap in
            var o = JSONObject()
            o.string("kind", gap.kind)
            o.string("start", gap.start.map(Format.timestamp))
            o.string("end", gap.end.map(Format.timestamp))
            if let start = gap.start, let end = gap.end { o.raw("seconds", Format.duration(end - start)) } else { o.raw("seconds", "null") }
            o.string("detail", gap.detail)
            return o.finish()
        }
        return "\"completeness\":{\"status\":\(Format.json(c.isComplete ? "COMPLETE" : "INCOMPLETE")),\"loss_allowed\":\(c.lossAllowed),"
            + "\"reasons\":[" + c.reasons.map(Format.json).joined(separator: ",") + "],"
            + "\"dropped_by_kernel\":\(c.droppedByKernel),\"dropped_by_interface\":\(c.droppedByInterface),"
            + "\"dropped_by_backlog\":\(c.droppedByBacklog),"
            + "\"dropped_events\":\(c.droppedEvents),\"gaps\":[" + gaps.joined(separator: ",") + "]}"
    }

    static func sinks(_ sinks: [SinkCounters]) -> String {
        "\"sinks\":[" + sinks.map { s in
            "{\"name\":\(Format.json(s.name)),\"kind\":\(Format.json(s.kind)),\"offered\":\(s.offered),\"sent\":\(s.sent),"
                + "\"dropped\":\(s.dropped),\"dropped_queue_full\":\(s.droppedQueueFull),\"dropped_write_error\":\(s.droppedWriteError),"
                + "\"dropped_at_exit\":\(s.droppedAtExit),\"reconnects\":\(s.reconnects),\"reopens\":\(s.reopens),"
                + "\"error\":\(s.firstError.map(Format.json) ?? "null"),\"errno\":\(s.firstErrno.map(String.init) ?? "null")}"
        }.joined(separator: ",") + "]"
    }
}
