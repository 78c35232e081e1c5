package dev.deputy.broker.metrics;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The dashboard and alert files parse, the alert rules cover what an operator needs, and {@code promtool check
 * rules} accepts them when promtool is installed (Debian package {@code prometheus}). That each series they use
 * exists is MetricsHttpMariaDbRedisTest's.
 */
class OpsFilesTest {
    @Test
    void metricNamesAreExtractedFromPromQl() {
        assertEquals(Set.of("http_server_requests_seconds_bucket"), OpsFiles.metricNames(
                "histogram_quantile(0.99, sum by (le, uri) (rate(http_server_requests_seconds_bucket{uri=\"/t/{tenant}/token\",status=~\"5..\"}[5m])))"));
        assertEquals(Set.of("a_total", "b_total"), OpsFiles.metricNames(
                "(sum by (tenant) (rate(a_total[5m])) > 1) and sum without (x) (b_total offset 5m) > 3 * 2e3"));
        assertEquals(Set.of("deputy_ready"), OpsFiles.metricNames("changes(deputy_ready[15m]) > 4"));
    }

    @Test
    void alertRulesCoverTheOperatorsNeeds() {
        Map<String, String> alerts = OpsFiles.alertExprs();
        for (String needed : List.of("DeputyAuditWriteFailing", "DeputyAuditCheckpointLag", "DeputyTokenRefusalSpike",
                "DeputyReadinessFlapping", "DeputyNotReady", "DeputyDependencyDown", "DeputyAuditWitnessLag",
                "DeputyKeyIntegrityFailure")) {
            assertTrue(alerts.containsKey(needed), needed + " in " + alerts.keySet());
        }
        assertTrue(OpsFiles.metricNames(alerts.get("DeputyAuditWriteFailing")).contains("deputy_audit_write_failures_total"));
        assertTrue(OpsFiles.dashboardExprs().size() >= 20);
    }

    @Test
    void promtoolAcceptsTheRules() throws Exception {
        Path promtool = Path.of("/usr/bin/promtool");
        assumeTrue(Files.isExecutable(promtool), "promtool not installed (apt-get install prometheus)");
        Process p = new ProcessBuilder(promtool.toString(), "check", "rules", OpsFiles.alerts().toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("SUCCESS"), out);
    }
}
