package dev.deputy.broker.metrics;

import dev.deputy.broker.oauth.AgentTestBroker;

/** The metrics on the embedded default (H2, in-process ephemeral store). */
class MetricsHttpEmbeddedTest extends MetricsHttpContract {
    @Override
    AgentTestBroker.Builder backend(AgentTestBroker.Builder b) {
        return b;
    }

    @Override
    String databaseBackend() {
        return "h2";
    }
}
