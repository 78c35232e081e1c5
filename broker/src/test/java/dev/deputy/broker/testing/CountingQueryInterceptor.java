package dev.deputy.broker.testing;

import com.mysql.cj.MysqlConnection;
import com.mysql.cj.Query;
import com.mysql.cj.interceptors.QueryInterceptor;
import com.mysql.cj.log.Log;
import com.mysql.cj.protocol.Resultset;
import com.mysql.cj.protocol.ServerSession;

import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Supplier;

/**
 * Records every statement Connector/J sends to the server (each one round trip: a text query, a client-side prepared
 * statement — a rewritten JDBC batch is one — or a {@code commit}), while {@link #start()} is in force. Named in a JDBC
 * URL: {@code ...?queryInterceptors=dev.deputy.broker.testing.CountingQueryInterceptor} (see {@link #url}).
 */
public final class CountingQueryInterceptor implements QueryInterceptor {
    private static final ConcurrentLinkedQueue<String> SEEN = new ConcurrentLinkedQueue<>();
    private static volatile boolean recording;

    /** {@code jdbcUrl} with this interceptor. */
    public static String url(String jdbcUrl) {
        return jdbcUrl + (jdbcUrl.contains("?") ? "&" : "?") + "queryInterceptors=" + CountingQueryInterceptor.class.getName();
    }

    /** Forgets what was seen and records from now on. */
    public static void start() {
        SEEN.clear();
        recording = true;
    }

    /** Stops recording; returns the statements seen since {@link #start()}, in the order they were sent. */
    public static List<String> stop() {
        recording = false;
        return new ArrayList<>(SEEN);
    }

    @Override
    public QueryInterceptor init(MysqlConnection conn, Properties props, Log log) {
        return this;
    }

    @Override
    public <T extends Resultset> T preProcess(Supplier<String> sql, Query interceptedQuery) {
        if (recording) {
            String s = sql.get();
            SEEN.add(s == null ? "" : s);
        }
        return null;
    }

    @Override
    public boolean executeTopLevelOnly() {
        return true;
    }

    @Override
    public void destroy() {
    }

    @Override
    public <T extends Resultset> T postProcess(Supplier<String> sql, Query interceptedQuery, T originalResultSet,
                                               ServerSession serverSession) {
        return null;
    }
}
