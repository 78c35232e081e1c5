package dev.deputy.broker.authorize;

import java.util.List;
import java.util.Map;

/** Query/form parameter access shared by the authorization endpoint's pieces. */
final class Params {
    private Params() {
    }

    /** The first value, or null when absent or empty. */
    static String single(Map<String, List<String>> params, String name) {
        List<String> v = params.get(name);
        return v == null || v.isEmpty() || v.get(0) == null || v.get(0).isEmpty() ? null : v.get(0);
    }
}
