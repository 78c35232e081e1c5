package dev.deputy.broker.tracing;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TracingSettingsTest {
    static Map<String, Object> props(Map<String, String> env) {
        return TracingSettings.properties(env::get);
    }

    @Test
    void offUnlessAnExporterIsConfigured() {
        assertEquals(Map.of("micronaut.otel.enabled", false), props(Map.of()));
        assertEquals(false, props(Map.of("OTEL_TRACES_EXPORTER", "none")).get("micronaut.otel.enabled"));
        assertEquals(false, props(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "  ")).get("micronaut.otel.enabled"));
    }

    @Test
    void theStandardEndpointTurnsItOnWithOtlpOverHttp() {
        Map<String, Object> p = props(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector.example:4318"));
        assertEquals(true, p.get("micronaut.otel.enabled"));
        assertEquals("otlp", p.get("otel.traces.exporter"));
        assertEquals("http/protobuf", p.get("otel.exporter.otlp.protocol"));
        assertEquals("deputy", p.get("otel.service.name"));
        assertFalse(p.containsKey("otel.exporter.otlp.endpoint")); // the SDK reads the variable itself
        assertEquals(true, props(Map.of("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:4318/v1/traces"))
                .get("micronaut.otel.enabled"));
    }

    @Test
    void deputySettingsAndOverrides() {
        Map<String, Object> p = props(Map.of("DEPUTY_OTLP_ENDPOINT", "http://127.0.0.1:4318", "OTEL_SERVICE_NAME", "deputy-eu",
                "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"));
        assertEquals("http://127.0.0.1:4318", p.get("otel.exporter.otlp.endpoint"));
        assertFalse(p.containsKey("otel.service.name"));
        assertFalse(p.containsKey("otel.exporter.otlp.protocol"));
        assertEquals(false, props(Map.of("DEPUTY_TRACING", "off", "OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"))
                .get("micronaut.otel.enabled"));
        assertEquals(false, props(Map.of("OTEL_SDK_DISABLED", "true", "OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"))
                .get("micronaut.otel.enabled"));
        assertTrue((Boolean) props(Map.of("DEPUTY_TRACING", "ON")).get("micronaut.otel.enabled"));
        assertThrows(IllegalArgumentException.class, () -> props(Map.of("DEPUTY_TRACING", "yes")));
    }
}
