package dev.deputy.broker.admin;

import dev.deputy.broker.console.BrowserHarness;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What the console's page tests in headless Chromium share, once per class: a {@link ConsoleFixture} (a real OpenID
 * provider on loopback for the admins and a broker on the embedded default whose console signs in through it) over the
 * config tree {@link #config} writes, one {@link BrowserHarness}, both closed after the class's last test, and
 * {@link #signIn}. Without Chromium, chromedriver or axe-core the class is skipped with the reason.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ConsoleBrowserTestBase {
    ConsoleFixture console;
    ManageBroker broker;
    BrowserHarness h;
    private final boolean mfa;
    private final Map<String, String> env;

    /**
     * {@code mfa}: {@link #signIn} signs in with a multi-factor sign-in (else a password one); {@code env}: console
     * settings ({@code DEPUTY_CONSOLE_*}) beyond the fixture's.
     */
    ConsoleBrowserTestBase(boolean mfa, Map<String, String> env) {
        this.mfa = mfa;
        this.env = env;
    }

    /** Writes the broker's config tree under {@code root} (before the broker starts). */
    abstract void config(Path root);

    /** After the broker has started, before the browser does: what the class plants through the admin API. */
    void started() {
    }

    @BeforeAll
    final void startConsoleAndBrowser() {
        BrowserHarness.assumeAvailable();
        console = ConsoleFixture.start(false, this::config, env);
        broker = console.broker;
        started();
        h = new BrowserHarness(null);
    }

    @AfterAll
    final void stopConsoleAndBrowser() {
        if (h != null) {
            h.close();
        }
        if (console != null) {
            console.close();
        }
    }

    /** Signs the browser in to the console as {@code sub} in {@code groups} (cookies cleared first), then opens {@code path}. */
    void signIn(String sub, List<String> groups, String path) {
        console.signIn(h, sub, groups, mfa, path);
    }
}
