package dev.deputy.broker.config;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.deputy.broker.admin.ManageBroker;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 17: "an agent file removed (and the agent revoked) never blocks the next start: the message says what to do".
 * Real restarts of one broker on one config tree and data dir: a config agent is created at start; its file removed,
 * the next start revokes it; the file put back (a stale checkout, a revert), the next start still comes up — the agent
 * stays revoked, and the log names the file to delete.
 */
class AgentFileRemovedRestartTest {

    @Test
    void aRevokedAgentsFileLeftBehindNeverBlocksAStart() throws Exception {
        Path root = ManageBroker.newRoot();
        Path file = root.resolve("config/tenants/demo/agents/restart.bot.yml");
        String yaml = "environment: dev\nauth_method: tls_client_auth\n";
        ManageBroker.write(file, yaml);

        ManageBroker first = ManageBroker.start(root, false, Map.of());
        try {
            Map<String, Object> agent = ManageBroker.json(first.get("/admin/t/demo/agents/restart.bot").body());
            assertEquals("active", agent.get("status"));
            assertEquals("config", agent.get("managed_by"));
        } finally {
            first.stopKeepingRoot();
        }

        Files.delete(file);
        ManageBroker second = ManageBroker.start(root, false, Map.of());
        try {
            assertEquals("revoked", ManageBroker.json(second.get("/admin/t/demo/agents/restart.bot").body()).get("status"),
                    "the start applied the removal");
        } finally {
            second.stopKeepingRoot();
        }

        ManageBroker.write(file, yaml);
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        Logger logger = (Logger) LoggerFactory.getLogger(PolicyApply.class);
        Level before = logger.getLevel();
        logger.setLevel(Level.INFO);
        lines.start();
        logger.addAppender(lines);
        ManageBroker third;
        try {
            third = ManageBroker.start(root, false, Map.of());
        } finally {
            logger.detachAppender(lines);
            logger.setLevel(before);
        }
        try {
            assertEquals("revoked", ManageBroker.json(third.get("/admin/t/demo/agents/restart.bot").body()).get("status"));
            assertTrue(lines.list.stream().anyMatch(e -> e.getLevel() == Level.WARN && e.getFormattedMessage().equals(
                            "tenant demo: skipped: agent 'restart.bot' is revoked and revoked ids are not reused: delete "
                                    + "agents/restart.bot.yml (or give the agent a new id in it)")),
                    lines.list.stream().map(ILoggingEvent::getFormattedMessage).toList().toString());
            // and the admin who plans that tree is told the same, as an error of the plan
            HttpResponseText plan = new HttpResponseText(third.post("/admin/t/demo/apply?dry_run=true",
                    "{\"files\":{\"agents/restart.bot.yml\":\"environment: dev\\nauth_method: tls_client_auth\\n\"}}"));
            assertEquals(409, plan.status(), plan.body());
            assertTrue(plan.body().contains("delete agents/restart.bot.yml (or give the agent a new id in it)"), plan.body());
        } finally {
            third.close();
        }
    }

    record HttpResponseText(int status, String body) {
        HttpResponseText(java.net.http.HttpResponse<String> r) {
            this(r.statusCode(), r.body());
        }
    }
}
