package dev.deputy.broker.oauth;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The {@code reason} label of {@code deputy_requests_unavailable_total} for the dependency names the broker throws. */
class UnavailableReasonTest {
    @Test
    void dependencyNamesBecomeTheirDocumentedLabels() {
        assertEquals("replay_cache", TokenMetrics.unavailableReason("replay cache")); // UsedMarks at its heap budget
        assertEquals("rate_limiter", TokenMetrics.unavailableReason("rate limiter"));
        assertEquals("audit_journal", TokenMetrics.unavailableReason("audit journal"));
        assertEquals("other", TokenMetrics.unavailableReason("something new"));
        assertEquals("other", TokenMetrics.unavailableReason(null));
    }
}
