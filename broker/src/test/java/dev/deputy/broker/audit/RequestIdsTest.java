package dev.deputy.broker.audit;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RequestIdsTest {
    @Test
    void layoutIsUuidVersion7WithTheMillisecondsInFront() {
        long ms = 1_796_000_000_123L;
        UUID id = UUID.fromString(RequestIds.next(ms, new Random(1)));
        assertEquals(7, id.version());
        assertEquals(2, id.variant()); // RFC 9562 variant (10xx)
        assertEquals(ms, id.getMostSignificantBits() >>> 16);
    }

    @Test
    void laterIdsSortAfterEarlierOnes() {
        Random r = new Random(2);
        String previous = RequestIds.next(1_000L, r);
        for (long ms = 1_001L; ms < 3_000L; ms++) {
            String id = RequestIds.next(ms, r);
            assertTrue(id.compareTo(previous) > 0, id + " after " + previous);
            previous = id;
        }
    }

    @Test
    void idsOfOneMillisecondDiffer() {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 100_000; i++) {
            seen.add(RequestIds.next());
        }
        assertEquals(100_000, seen.size());
        assertTrue(seen.iterator().next().matches("[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));
    }
}
