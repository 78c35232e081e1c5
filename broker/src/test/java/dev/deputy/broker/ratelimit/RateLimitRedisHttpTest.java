package dev.deputy.broker.ratelimit;

import dev.deputy.broker.oauth.AgentTestBroker;
import dev.deputy.broker.testing.RedisNamespace;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link RateLimitHttpTest} with the buckets in Redis (one Lua script per check, storage.ephemeral.RedisRateLimitStore). */
class RateLimitRedisHttpTest extends RateLimitHttpTest {
    final RedisNamespace ns = RedisNamespace.create();

    @Override
    AgentTestBroker.Builder configure(AgentTestBroker.Builder b) {
        return b.redis(ns.uri(), ns.prefix());
    }

    @Test
    void bucketsLiveInRedisUnderTheNodesPrefix() {
        assertEquals(200, token("demo", OTHER).statusCode());
        List<String> keys = ns.redis().keys(ns.prefix() + "rl:token_per_client:demo:" + OTHER + ":3/1h");
        assertEquals(1, keys.size(), keys.toString());
        // the key goes once the bucket would be full again (plus a margin)
        long ttl = ns.redis().pttl(keys.get(0));
        assertTrue(ttl > 0 && ttl <= 3_600_000 + 5_000, "pttl " + ttl);
    }

    @AfterAll
    void dropKeys() {
        ns.close();
    }
}
