package dev.deputy.broker.keys;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.deputy.broker.audit.AuditEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The first start with row MACs (issue 17 follow-up): adopting rows written before them is worth a WARN naming the
 * count; a fresh database adopts nothing and must not print "INTEGRITY: adopted 0 rows" (an INFO line instead). The
 * {@code integrity.adopted} audit entry is written either way.
 */
class IntegrityAlarmAdoptionLogTest {
    private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(IntegrityAlarm.class);
    private Level before;

    @BeforeEach
    void attach() {
        before = logger.getLevel();
        logger.setLevel(Level.INFO);
        lines.start();
        logger.addAppender(lines);
    }

    @AfterEach
    void detach() {
        logger.detachAppender(lines);
        logger.setLevel(before);
    }

    @Test
    void zeroAdoptedRowsIsNoWarning() throws Exception {
        List<AuditEvent> audited = new CopyOnWriteArrayList<>();
        IntegrityAlarm alarm = new IntegrityAlarm(audited::add);
        alarm.adopted("_broker", Map.of(), "first start with row MACs");
        alarm.adopted("payments.eu", Map.of("agents", 0), "rows present at the first start with row MACs");
        assertTrue(lines.list.stream().noneMatch(e -> e.getLevel() == Level.WARN), lines.list.toString());
        assertTrue(lines.list.stream().noneMatch(e -> e.getFormattedMessage().contains("adopted 0 rows")), lines.list.toString());
        assertEquals(2, lines.list.stream().filter(e -> e.getLevel() == Level.INFO
                && e.getFormattedMessage().startsWith("row integrity: no rows of tenant")).count(), lines.list.toString());
        awaitEntries(audited, 2);
    }

    @Test
    void adoptedRowsAreAWarningWithTheCount() throws Exception {
        List<AuditEvent> audited = new CopyOnWriteArrayList<>();
        IntegrityAlarm alarm = new IntegrityAlarm(audited::add);
        alarm.adopted("zoë-tenant", Map.of("agents", 3, "clients", 2), "rows present at the first start with row MACs");
        List<ILoggingEvent> warns = lines.list.stream().filter(e -> e.getLevel() == Level.WARN).toList();
        assertEquals(1, warns.size(), lines.list.toString());
        assertTrue(warns.get(0).getFormattedMessage().startsWith("INTEGRITY: adopted 5 rows of tenant zoë-tenant"),
                warns.get(0).getFormattedMessage());
        awaitEntries(audited, 1);
        assertEquals("integrity.adopted", audited.get(0).type());
    }

    /** The alarm writes its entries on its own thread: wait for them (never a fixed sleep). */
    private static void awaitEntries(List<AuditEvent> audited, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (audited.size() < n && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(n, audited.size());
    }
}
