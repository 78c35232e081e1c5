package dev.deputy.broker.logging;

import io.micronaut.core.propagation.PropagatedContext;
import io.micronaut.core.propagation.ThreadPropagatedContextElement;
import org.slf4j.MDC;

/**
 * The fields every log line of a request carries (MDC keys {@value #TENANT}, {@value #REQUEST_ID},
 * {@value #CORRELATION_ID}, {@value #CLIENT_ID}, {@value #AGENT_ID}), and the per-request holder through which
 * the access log learns who the client was once client authentication has run on the handler's thread.
 * Identifiers only: never a token, an assertion or a secret.
 *
 * <p>It is the request's own propagated context element: wherever Micronaut runs a piece of the request (the event
 * loop, the handler's virtual thread), these five keys are put into that thread's MDC and taken out again after —
 * five small puts and removes, where carrying a copy of the whole MDC map ({@code MdcPropagationContext}) copied
 * maps twice on every thread switch of every request. Other MDC keys of the thread are left as they are.
 */
public final class LogContext implements ThreadPropagatedContextElement<String[]> {
    public static final String TENANT = "tenant";
    public static final String REQUEST_ID = "request_id";
    public static final String CORRELATION_ID = "correlation_id";
    public static final String CLIENT_ID = "client_id";
    public static final String AGENT_ID = "agent_id";
    private static final String[] KEYS = {TENANT, REQUEST_ID, CORRELATION_ID, CLIENT_ID, AGENT_ID};

    private final String tenant;
    private final String requestId;
    private final String correlationId;
    private volatile String clientId;
    private volatile String agentId;

    /** A request's context: its tenant (null when the path names none), request id and correlation id. */
    public LogContext(String tenant, String requestId, String correlationId) {
        this.tenant = tenant;
        this.requestId = requestId;
        this.correlationId = correlationId;
    }

    public String clientId() {
        return clientId;
    }

    public String agentId() {
        return agentId;
    }

    /** Puts this request's keys into the current thread's MDC; returns what the thread had under them (or null). */
    @Override
    public String[] updateThreadContext() {
        String[] before = null;
        for (int i = 0; i < KEYS.length; i++) {
            String v = MDC.get(KEYS[i]);
            if (v != null) {
                if (before == null) {
                    before = new String[KEYS.length];
                }
                before[i] = v;
            }
        }
        set(TENANT, tenant);
        set(REQUEST_ID, requestId);
        set(CORRELATION_ID, correlationId);
        set(CLIENT_ID, clientId);
        set(AGENT_ID, agentId);
        return before;
    }

    /** Puts back what the thread had under these keys before {@link #updateThreadContext}. */
    @Override
    public void restoreThreadContext(String[] before) {
        for (int i = 0; i < KEYS.length; i++) {
            set(KEYS[i], before == null ? null : before[i]);
        }
    }

    private static void set(String key, String value) {
        if (value == null) {
            MDC.remove(key);
        } else {
            MDC.put(key, value);
        }
    }

    /**
     * The request's client is known (after client authentication): later log lines of this thread and the access
     * log line name it.
     */
    public static void client(String clientId, String agentId) {
        if (clientId != null) {
            MDC.put(CLIENT_ID, clientId);
        }
        if (agentId != null) {
            MDC.put(AGENT_ID, agentId);
        }
        PropagatedContext.find().flatMap(c -> c.find(LogContext.class)).ifPresent(h -> {
            h.clientId = clientId;
            h.agentId = agentId;
        });
    }
}
