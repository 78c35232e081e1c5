package dev.deputy.broker.audit;

import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Request ids in the UUID version 7 layout (RFC 9562 §5.7): 48 bits of Unix milliseconds, then random bits.
 * They are identifiers, not secrets. Being time-ordered, a new id lands at the end of the audit trail's
 * correlation index instead of on a random page of it: with random (version 4) ids every audit entry
 * rewrote a different B-tree page, and indexing the trail on the embedded default cost about twice as much.
 */
public final class RequestIds {
    private RequestIds() {
    }

    public static String next() {
        return next(System.currentTimeMillis(), ThreadLocalRandom.current());
    }

    static String next(long unixMillis, Random random) {
        long randA = random.nextInt(1 << 12);
        long msb = (unixMillis & 0xFFFF_FFFF_FFFFL) << 16 | 0x7000L | randA;
        long lsb = random.nextLong() & 0x3FFF_FFFF_FFFF_FFFFL | 0x8000_0000_0000_0000L;
        return new UUID(msb, lsb).toString();
    }
}
