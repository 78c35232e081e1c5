package dev.deputy.broker.grant;

/** {@link HostileIdentifiersDelegationContract} on the embedded default. */
class HostileIdentifiersDelegationEmbeddedTest extends HostileIdentifiersDelegationContract {
    @Override
    boolean mariadbAndRedis() {
        return false;
    }
}
