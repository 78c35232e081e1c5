package dev.deputy.broker.policy;

import java.util.List;

/** {@code config/tenants/<t>/policies/*.yml}: delegation rules (and the tenant's chain-depth limit). */
public record PolicyFile(Integer maxChainDepth, List<DelegationRule> delegation) {
    public PolicyFile {
        delegation = delegation == null ? List.of() : List.copyOf(delegation);
    }
}
