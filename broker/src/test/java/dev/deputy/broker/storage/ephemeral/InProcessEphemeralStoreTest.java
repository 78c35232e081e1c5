package dev.deputy.broker.storage.ephemeral;

import dev.deputy.broker.ephemeral.EphemeralStore;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The ephemeral store contract on the in-process store (the embedded default). */
class InProcessEphemeralStoreTest extends EphemeralStoreContract {
    @Override
    EphemeralStore open() {
        return new InProcessEphemeralStore();
    }

    @Override
    String expectedBackend() {
        return "in-process";
    }

    @Test
    void sweepDropsExpiredEntries() throws Exception {
        InProcessEphemeralStore s = (InProcessEphemeralStore) store;
        String k = key("sweep");
        s.put(k, "v", Duration.ofMillis(50));
        Thread.sleep(80);
        s.sweep();
        assertEquals(Optional.empty(), s.get(k));
    }
}
