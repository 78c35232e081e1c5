package dev.deputy.connectors;

import java.util.List;

/** Result of {@link UpstreamConnector#test()}: one line per check, in the order they ran. */
public record ConnectorTestReport(String connectorId, List<Check> checks) {

    public enum Status { OK, WARN, FAIL }

    public record Check(String name, Status status, String detail) {}

    public ConnectorTestReport {
        checks = List.copyOf(checks);
    }

    public boolean ok() {
        return checks.stream().noneMatch(c -> c.status() == Status.FAIL);
    }

    public List<Check> problems() {
        return checks.stream().filter(c -> c.status() != Status.OK).toList();
    }
}
