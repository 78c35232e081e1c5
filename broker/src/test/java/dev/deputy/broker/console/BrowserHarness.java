package dev.deputy.broker.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A real browser for page tests: Debian's headless Chromium ({@code /usr/bin/chromium}) driven by Selenium through
 * {@code /usr/bin/chromedriver} (no driver or browser download), a fresh profile per browser, a fixed window size.
 * Every page a test opens can be checked with axe-core ({@link #axe}: the pinned {@code e2e/browser/node_modules/
 * axe-core/axe.min.js}, injected through WebDriver, fails on any serious or critical violation) and photographed
 * ({@link #screenshot}: into {@code broker/target/screenshots/}, or into {@code docs/console/} when run with
 * {@code -Ddeputy.screenshots=docs}).
 *
 * <p>Without Chromium, chromedriver or axe-core (and npm to install it), the test is skipped with the reason;
 * {@code scripts/services} installs the browser with apt-get and {@code scripts/test} refuses a run where it skipped.
 * Reusable by the console's page tests.
 */
public final class BrowserHarness implements AutoCloseable {
    public static final Path CHROMIUM = Path.of(System.getProperty("deputy.chromium", "/usr/bin/chromium"));
    public static final Path CHROMEDRIVER = Path.of(System.getProperty("deputy.chromedriver", "/usr/bin/chromedriver"));
    private static final ObjectMapper JSON = new ObjectMapper();
    private static volatile String axeSource;

    public final WebDriver driver;
    private final Path profile;

    /** A browser; {@code acceptLanguage} (languages, e.g. {@code de-DE,de}) sets its Accept-Language, null: English. */
    public BrowserHarness(String acceptLanguage) {
        assumeAvailable();
        try {
            profile = Files.createTempDirectory("deputy-chromium-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ChromeOptions o = new ChromeOptions();
        o.setBinary(CHROMIUM.toFile());
        o.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,1000", "--user-data-dir=" + profile);
        String lang = acceptLanguage == null ? "en" : acceptLanguage;
        // headless Chromium takes the Accept-Language from --accept-lang; the profile preference for headful runs
        o.addArguments("--accept-lang=" + lang, "--lang=" + lang.split(",")[0]);
        o.setExperimentalOption("prefs", Map.of("intl.accept_languages", lang));
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().build();
        driver = new ChromeDriver(service, o);
        driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(60)).pageLoadTimeout(Duration.ofSeconds(60));
    }

    /** Skips the calling test, with the reason, when the browser or axe-core is not there. */
    public static void assumeAvailable() {
        Assumptions.assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "browser tests need Debian's chromium and chromium-driver (" + CHROMIUM + ", " + CHROMEDRIVER
                        + "): apt-get install chromium chromium-driver (scripts/services does it as root)");
        Assumptions.assumeTrue(axe() != null, "browser tests need axe-core: npm ci in e2e/browser (needs npm)");
    }

    public void open(String url) {
        driver.get(url);
    }

    public WebElement find(String css) {
        return driver.findElement(By.cssSelector(css));
    }

    public List<WebElement> all(String css) {
        return driver.findElements(By.cssSelector(css));
    }

    public String text(String css) {
        return find(css).getText();
    }

    /** Waits (up to 30 s) until the condition holds, e.g. a page after a redirect chain. */
    public <T> T await(Function<WebDriver, T> condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        RuntimeException last = null;
        while (System.nanoTime() < deadline) {
            try {
                T v = condition.apply(driver);
                if (v != null && !Boolean.FALSE.equals(v)) {
                    return v;
                }
            } catch (org.openqa.selenium.WebDriverException e) {
                last = e; // e.g. the element is not there yet
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        throw new AssertionError("condition not met within 30 s at " + driver.getCurrentUrl() + " (" + driver.getTitle() + ")", last);
    }

    /** Waits for a page whose URL starts with {@code prefix}. */
    public void awaitUrl(String prefix) {
        await(d -> d.getCurrentUrl().startsWith(prefix) && "complete".equals(((JavascriptExecutor) d)
                .executeScript("return document.readyState")));
    }

    /**
     * Signs in to the console of the broker at {@code brokerUrl} in this browser, with its cookies cleared first:
     * {@code enqueue} prepares the admins' identity provider's next answer (the ID token of the admin), the console's
     * sign-in goes through the provider and back to {@code /console}; then {@code path} opens.
     */
    public void consoleSignIn(String brokerUrl, Runnable enqueue, String path) {
        driver.manage().deleteAllCookies();
        enqueue.run();
        open(brokerUrl + "/console");
        await(d -> d.getCurrentUrl().equals(brokerUrl + "/console") && "complete".equals(((JavascriptExecutor) d)
                .executeScript("return document.readyState")) && !d.findElements(By.cssSelector("main")).isEmpty());
        open(brokerUrl + path);
        awaitUrl(brokerUrl + path);
    }

    /** The checks of every page a test shows: axe-core ({@link #axe}), then a screenshot ({@link #screenshot}). */
    public void check(String page, String screenshot) {
        axe(page);
        screenshot(screenshot);
    }

    /** Runs axe-core on the current page; fails on any serious or critical violation, naming rule and elements. */
    public void axe(String page) {
        JavascriptExecutor js = (JavascriptExecutor) driver;
        js.executeScript(axe());
        Object result = js.executeAsyncScript("""
                var done = arguments[arguments.length - 1];
                axe.run(document, { resultTypes: ['violations'] }).then(function (r) {
                  done(JSON.stringify(r.violations.map(function (v) {
                    return { id: v.id, impact: v.impact, help: v.help,
                             nodes: v.nodes.slice(0, 5).map(function (n) { return n.target.join(' '); }) };
                  })));
                }).catch(function (e) { done('ERROR ' + e); });
                """);
        String json = String.valueOf(result);
        if (json.startsWith("ERROR")) {
            fail("axe-core did not run on " + page + ": " + json);
        }
        try {
            List<Map<String, Object>> violations = JSON.readValue(json, List.class);
            List<Map<String, Object>> bad = new ArrayList<>();
            for (Map<String, Object> v : violations) {
                if ("serious".equals(v.get("impact")) || "critical".equals(v.get("impact"))) {
                    bad.add(v);
                }
            }
            assertEquals(List.of(), bad, "axe-core: serious or critical accessibility violations on " + page);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A PNG of the viewport as {@code <name>.png}. */
    public Path screenshot(String name) {
        byte[] png = ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES);
        Path dir = "docs".equals(System.getProperty("deputy.screenshots"))
                ? repoRoot().resolve("docs/console") : repoRoot().resolve("broker/target/screenshots");
        try {
            Files.createDirectories(dir);
            Path file = dir.resolve(name + ".png");
            Files.write(file, png);
            assertTrue(png.length > 1000 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G', "a PNG screenshot");
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** axe.min.js of the pinned axe-core (e2e/browser/package-lock.json); runs {@code npm ci} there once if needed. */
    static synchronized String axe() {
        if (axeSource != null) {
            return axeSource;
        }
        Path dir = repoRoot().resolve("e2e/browser");
        Path file = dir.resolve("node_modules/axe-core/axe.min.js");
        if (!Files.exists(file)) {
            try {
                Process p = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund").directory(dir.toFile())
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                if (!p.waitFor(300, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (IOException e) {
                return null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
        try {
            axeSource = Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : null;
        } catch (IOException e) {
            return null;
        }
        return axeSource;
    }

    static Path repoRoot() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("e2e"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("cannot find the repository root (a folder with e2e/) above " + new File("").getAbsolutePath());
        }
        return p;
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            try (var files = Files.walk(profile)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            } catch (IOException ignored) {
                // a temp folder left behind
            }
        }
    }
}
