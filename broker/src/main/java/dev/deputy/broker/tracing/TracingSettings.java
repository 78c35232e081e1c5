package dev.deputy.broker.tracing;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * Whether the broker traces, decided once at start from the environment: off unless an exporter is configured.
 * <ul>
 *   <li>{@code DEPUTY_TRACING=off} (or {@code OTEL_SDK_DISABLED=true}) forces it off;</li>
 *   <li>otherwise it is on when {@code DEPUTY_OTLP_ENDPOINT}, {@code OTEL_EXPORTER_OTLP_ENDPOINT} or
 *       {@code OTEL_EXPORTER_OTLP_TRACES_ENDPOINT} is set, when {@code OTEL_TRACES_EXPORTER} names an exporter other
 *       than {@code none}, or when {@code DEPUTY_TRACING=on}.</li>
 * </ul>
 * On, the SDK is micronaut-tracing's (autoconfigured from {@code otel.*} properties and the standard {@code OTEL_*}
 * variables) with these defaults: the OTLP exporter, over HTTP with protobuf (the JDK's HttpClient; gRPC is not
 * shipped), service name {@code deputy}. Off, no OpenTelemetry SDK is built and no span is ever started.
 */
public final class TracingSettings {
    private TracingSettings() {
    }

    /** The Micronaut properties for this environment ({@code micronaut.otel.enabled} and its {@code otel.*} defaults). */
    public static Map<String, Object> properties(Function<String, String> env) {
        Map<String, Object> props = new HashMap<>();
        boolean on = enabled(env);
        props.put("micronaut.otel.enabled", on);
        if (!on) {
            return props;
        }
        String endpoint = value(env, "DEPUTY_OTLP_ENDPOINT");
        if (endpoint != null) {
            // the generic endpoint: the exporter appends /v1/traces
            props.put("otel.exporter.otlp.endpoint", endpoint);
        }
        String exporter = value(env, "OTEL_TRACES_EXPORTER");
        props.put("otel.traces.exporter", exporter != null ? exporter : "otlp");
        if (value(env, "OTEL_EXPORTER_OTLP_PROTOCOL") == null && value(env, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") == null) {
            props.put("otel.exporter.otlp.protocol", "http/protobuf");
        }
        if (value(env, "OTEL_SERVICE_NAME") == null) {
            props.put("otel.service.name", "deputy");
        }
        return props;
    }

    static boolean enabled(Function<String, String> env) {
        String deputy = value(env, "DEPUTY_TRACING");
        if (deputy != null && !deputy.equalsIgnoreCase("on") && !deputy.equalsIgnoreCase("off")) {
            throw new IllegalArgumentException("DEPUTY_TRACING must be on or off, not " + deputy);
        }
        if ("off".equalsIgnoreCase(deputy) || "true".equalsIgnoreCase(value(env, "OTEL_SDK_DISABLED"))) {
            return false;
        }
        if ("on".equalsIgnoreCase(deputy)) {
            return true;
        }
        String exporter = value(env, "OTEL_TRACES_EXPORTER");
        if (exporter != null) {
            return !exporter.toLowerCase(Locale.ROOT).equals("none");
        }
        return value(env, "DEPUTY_OTLP_ENDPOINT") != null || value(env, "OTEL_EXPORTER_OTLP_ENDPOINT") != null
                || value(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != null;
    }

    private static String value(Function<String, String> env, String name) {
        String v = env.apply(name);
        return v == null || v.isBlank() ? null : v.trim();
    }
}
