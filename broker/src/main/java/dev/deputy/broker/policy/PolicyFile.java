package dev.deputy.broker.policy;

import dev.deputy.policy.ToolsSection;

import java.util.List;

/**
 * {@code config/tenants/<t>/policies/*.yml}: delegation rules (and the tenant's chain-depth limit), and the tool rules
 * of governance decisions ({@code tools:}, docs/governance.md; parsed and compiled by the shared policy engine).
 */
public record PolicyFile(Integer maxChainDepth, List<DelegationRule> delegation, ToolsSection tools) {
    public PolicyFile {
        delegation = delegation == null ? List.of() : List.copyOf(delegation);
    }

    public PolicyFile(Integer maxChainDepth, List<DelegationRule> delegation) {
        this(maxChainDepth, delegation, null);
    }
}
