package dev.deputy.broker.audit;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import net.logstash.logback.encoder.LogstashEncoder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static dev.deputy.broker.federation.FedFixture.TENANT;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every flow of {@link AuditCatalogueTest} (admin sign-in with the bootstrap secret, DCR with client secrets,
 * federated login, codes, refresh tokens, private_key_jwt assertions, token exchange, introspection, revocation,
 * key rotation...) run again with every logger of the JVM at DEBUG, each line encoded as the broker writes it in
 * both formats (the text pattern and the JSON encoder): no token, assertion, client secret, admin secret, the
 * master key or an agent's private key appears in any of them, and nothing shaped like a JWT does either.
 * The same lines show the logging context at work: access log lines carry the tenant, both ids, the client and
 * the agent; lines written on a request's handler thread carry the request id from the MDC.
 */
class LogSecretsTest extends AuditCatalogueTest {
    /** The upstream test IdP runs in this JVM; its own logs are not the broker's. */
    private static final List<String> FOREIGN = List.of("no.nav.", "mock-oauth2-server", "okhttp3.", "io.ktor.");
    private static final Capture CAPTURE = new Capture();
    private static final Map<String, Level> SAVED = new HashMap<>();

    static {
        // the access log is off by default (docs/observability.md); these flows check its lines too
        System.setProperty("deputy.log.access", "true");
        LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
        for (Logger l : ctx.getLoggerList()) {
            if (l.getLevel() != null) {
                SAVED.put(l.getName(), l.getLevel());
                l.setLevel(Level.DEBUG);
            }
        }
        Logger root = ctx.getLogger(Logger.ROOT_LOGGER_NAME);
        SAVED.put(Logger.ROOT_LOGGER_NAME, root.getLevel());
        root.setLevel(Level.DEBUG);
        CAPTURE.setContext(ctx);
        CAPTURE.start();
        root.addAppender(CAPTURE);
    }

    @AfterAll
    void restoreLevels() {
        System.clearProperty("deputy.log.access");
        LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
        ctx.getLogger(Logger.ROOT_LOGGER_NAME).detachAppender(CAPTURE);
        SAVED.forEach((name, level) -> ctx.getLogger(name).setLevel(level));
    }

    /** Encodes every event as text and as a JSON line, as the two appenders of logback.xml would. */
    static final class Capture extends AppenderBase<ILoggingEvent> {
        final List<String> text = Collections.synchronizedList(new ArrayList<>());
        final List<String> json = Collections.synchronizedList(new ArrayList<>());
        private PatternLayout layout;
        private LogstashEncoder encoder;

        @Override
        public void start() {
            layout = new PatternLayout();
            layout.setContext(getContext());
            layout.setPattern("%d{HH:mm:ss.SSS} %-5level %logger{24} - %msg%n%ex");
            layout.start();
            encoder = new LogstashEncoder();
            encoder.setContext(getContext());
            encoder.start();
            super.start();
        }

        @Override
        protected void append(ILoggingEvent e) {
            String name = e.getLoggerName() + " " + e.getThreadName();
            for (String f : FOREIGN) {
                if (name.contains(f)) {
                    return;
                }
            }
            text.add(layout.doLayout(e));
            json.add(new String(encoder.encode(e), StandardCharsets.UTF_8));
        }
    }

    @Test
    @Order(900)
    void noSecretReachesALogLine() throws Exception {
        List<String> lines = new ArrayList<>();
        synchronized (CAPTURE.text) {
            lines.addAll(CAPTURE.text);
        }
        synchronized (CAPTURE.json) {
            lines.addAll(CAPTURE.json);
        }
        assertTrue(lines.size() > 500, "DEBUG is on: expected many lines, got " + lines.size());
        List<String> all = new ArrayList<>(secrets);
        all.add(Files.readString(dir.resolve("data/master.key")).trim());
        String d = agentKey.toECKey().getD().toString();
        all.add(d);
        all.add(agentKey.toJSONString());
        Pattern jwt = Pattern.compile("eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}\\.");
        for (String line : lines) {
            for (String s : all) {
                assertFalse(line.contains(s), () -> "a secret in a log line: " + line);
            }
            assertFalse(jwt.matcher(line).find(), () -> "a JWT in a log line: " + line);
        }
    }

    @Test
    @Order(901)
    void logLinesCarryTheRequestContext() throws Exception {
        ObjectMapper m = new ObjectMapper();
        List<JsonNode> json = new ArrayList<>();
        synchronized (CAPTURE.json) {
            for (String l : CAPTURE.json) {
                json.add(m.readTree(l));
            }
        }
        // the access log: a private_key_jwt token request names its tenant, client and agent, and both ids
        boolean token = false;
        for (JsonNode n : json) {
            if ("deputy.access".equals(n.path("logger_name").asText()) && n.path("path").asText().equals("/t/" + TENANT + "/token")
                    && n.path("status").asInt() == 200 && AGENT.equals(n.path("agent_id").asText())) {
                token = AGENT.equals(n.path("client_id").asText()) && n.path("request_id").asText().length() > 10
                        && n.path("correlation_id").asText().length() > 10 && TENANT.equals(n.path("tenant").asText())
                        && n.path("duration_ms").isNumber() && "POST".equals(n.path("method").asText());
                if (token) {
                    break;
                }
            }
        }
        assertTrue(token, "no access log line for a private_key_jwt token request with its context");
        // a line written while handling a request (not by the access log) carries the request's ids from the MDC
        boolean inHandler = json.stream().anyMatch(n -> n.path("logger_name").asText().startsWith("dev.deputy.broker")
                && !n.path("logger_name").asText().equals("deputy.access")
                && n.has("request_id") && n.has("correlation_id") && n.has("tenant"));
        assertTrue(inHandler, "no broker log line with the request's MDC");
    }
}
