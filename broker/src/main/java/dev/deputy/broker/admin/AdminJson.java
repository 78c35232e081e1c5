package dev.deputy.broker.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.module.SimpleModule;
import dev.deputy.broker.agent.AgentException;
import dev.deputy.broker.config.DurationDeserializer;

import java.time.Duration;

/** Strict JSON bodies of the admin API: snake_case, unknown members and wrong types are a 400 that says why. */
final class AdminJson {
    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .registerModule(new SimpleModule().addDeserializer(Duration.class, new DurationDeserializer()));

    private AdminJson() {
    }

    /** Parses a body; an empty body is allowed only when {@code type} may be all-null (returns null then). */
    static <T> T read(String body, Class<T> type, boolean required) {
        if (body == null || body.isBlank()) {
            if (required) {
                throw AgentException.invalid("a JSON body is required");
            }
            return null;
        }
        try {
            return JSON.readValue(body, type);
        } catch (UnrecognizedPropertyException e) {
            throw AgentException.invalid("unknown member '" + e.getPropertyName() + "'");
        } catch (JsonProcessingException e) {
            String msg = e.getOriginalMessage();
            if (msg != null && msg.length() > 200) {
                msg = msg.substring(0, 200);
            }
            Throwable c = e.getCause();
            if (c instanceof IllegalArgumentException iae && iae.getMessage() != null) {
                msg = iae.getMessage();
            }
            throw AgentException.invalid("malformed JSON body: " + msg);
        }
    }
}
