package dev.deputy.examples.banking;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Locale;
import java.util.Map;

/** The demo bank: balances by user {@code sub} and a fixed exchange-rate table. */
public final class Bank {
    /** Fixed demo rates (not market data): units of the target currency per unit of the source. */
    static final Map<String, Map<String, BigDecimal>> RATES = Map.of(
            "EUR", Map.of("AUD", new BigDecimal("1.6500"), "USD", new BigDecimal("1.0800"), "EUR", BigDecimal.ONE),
            "AUD", Map.of("EUR", new BigDecimal("0.6061"), "AUD", BigDecimal.ONE));

    private final Map<String, BigDecimal> known;

    public Bank(Map<String, BigDecimal> known) {
        this.known = Map.copyOf(known);
    }

    /** The EUR balance of a user: configured for demo users, else a stable figure derived from the sub. */
    public BigDecimal balance(String sub) {
        BigDecimal b = known.get(sub);
        if (b != null) {
            return b;
        }
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(sub.getBytes(StandardCharsets.UTF_8));
            int cents = ((h[0] & 0xff) << 16 | (h[1] & 0xff) << 8 | (h[2] & 0xff)) % 1_000_000;
            return BigDecimal.valueOf(cents, 2);
        } catch (Exception e) {
            return BigDecimal.ZERO;
        }
    }

    public BigDecimal convert(BigDecimal amount, String from, String to) {
        Map<String, BigDecimal> row = RATES.get(from.toUpperCase(Locale.ROOT));
        BigDecimal rate = row == null ? null : row.get(to.toUpperCase(Locale.ROOT));
        if (rate == null) {
            throw new IllegalArgumentException("no rate for " + from + " -> " + to);
        }
        return amount.multiply(rate).setScale(2, RoundingMode.HALF_EVEN);
    }

    public static BigDecimal rate(String from, String to) {
        Map<String, BigDecimal> row = RATES.get(from.toUpperCase(Locale.ROOT));
        return row == null ? null : row.get(to.toUpperCase(Locale.ROOT));
    }
}
