package dev.deputy.broker.http;

import dev.deputy.broker.ephemeral.EphemeralStore;
import dev.deputy.broker.health.Drain;
import dev.deputy.broker.keys.IntegrityAlarm;
import dev.deputy.broker.storage.Database;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code GET /health}: 200 when the broker can serve, 503 naming each dependency that is down
 * (e.g. {@code {"status":"DOWN","checks":{"database":{"status":"UP",...},"ephemeral":{"status":"DOWN",...}}}}).
 * {@code GET /health/ready} is the same answer, and also 503 while the node drains at shutdown (a load balancer or
 * Kubernetes stops sending it new requests); {@code GET /health/live} is 200 as long as the process serves HTTP at
 * all (it never asks the database or Redis: an outage there must not get every node restarted).
 * {@code integrity} counts stored rows that failed their master-key MAC since this node started
 * ({@code {"status":"ALERT","failed_rows":1,"by_table":{"signing_keys":1}}}): the broker keeps serving without them, so
 * they do not make it DOWN, but an operator alerts on {@code integrity.status != "OK"}.
 */
@Controller("/health")
public class HealthController {
    private final Database database;
    private final EphemeralStore ephemeral;
    private final Drain drain;
    private final IntegrityAlarm integrity;

    public HealthController(Database database, EphemeralStore ephemeral, Drain drain, IntegrityAlarm integrity) {
        this.database = database;
        this.ephemeral = ephemeral;
        this.drain = drain;
        this.integrity = integrity;
    }

    @Get("/live")
    public HttpResponse<Map<String, Object>> live() {
        return HttpResponse.<Map<String, Object>>ok(Map.of("status", "UP")).header("Cache-Control", "no-store");
    }

    @Get("/ready")
    @ExecuteOn(TaskExecutors.BLOCKING)
    public HttpResponse<Map<String, Object>> ready() {
        if (drain.draining()) {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("status", "DOWN");
            body.put("draining", true);
            return HttpResponse.<Map<String, Object>>status(HttpStatus.SERVICE_UNAVAILABLE)
                    .header("Cache-Control", "no-store").body(body);
        }
        return health();
    }

    @Get
    @ExecuteOn(TaskExecutors.BLOCKING)
    public HttpResponse<Map<String, Object>> health() {
        Map<String, Object> checks = new LinkedHashMap<>();
        boolean dbUp = database.up();
        boolean ephUp = ephemeral.up();
        checks.put(database.name(), Map.of("status", dbUp ? "UP" : "DOWN", "backend", database.backend()));
        checks.put(ephemeral.name(), Map.of("status", ephUp ? "UP" : "DOWN", "backend", ephemeral.backend()));
        boolean up = dbUp && ephUp;
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", up ? "UP" : "DOWN");
        body.put("checks", checks);
        long failed = integrity.failedRows();
        body.put("integrity", Map.of("status", failed == 0 ? "OK" : "ALERT", "failed_rows", failed,
                "by_table", integrity.failedByTable()));
        return HttpResponse.<Map<String, Object>>status(up ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE)
                .header("Cache-Control", "no-store").body(body);
    }
}
