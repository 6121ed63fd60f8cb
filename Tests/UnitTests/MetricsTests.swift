import ConciergeCore
import Testing

/// `Metrics.render()`: Prometheus text for gauges read at scrape time.
@Suite struct MetricsTests {
    @Test func aGaugeWithNoSeriesYetShowsZero() {
        let metrics = Metrics()
        metrics.gauge("concierge_outbox_depth", help: "Outbox entries waiting, per target.") { [] }
        let text = metrics.render()
        #expect(text.contains("# TYPE concierge_outbox_depth gauge\nconcierge_outbox_depth 0\n"))
    }

    @Test func aGaugeWithSeriesShowsThemAndNoExtraZero() {
        let metrics = Metrics()
        metrics.gauge("concierge_outbox_depth", help: "Outbox entries waiting, per target.") {
            [(labels: Metrics.render([("target", "routing")]), value: 3)]
        }
        let lines = metrics.render().split(separator: "\n").filter { $0.hasPrefix("concierge_outbox_depth") }
        #expect(lines == [#"concierge_outbox_depth{target="routing"} 3"#])
    }
}
