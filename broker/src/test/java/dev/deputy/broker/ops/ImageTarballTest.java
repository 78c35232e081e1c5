package dev.deputy.broker.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The OCI image tarball of {@code scripts/image} (Jib, from scratch + a base made here), inspected as a registry or a
 * runtime would read it: its config (entrypoint = the pom's, non-root user, environment without secrets, ports), its
 * layers (the base with the Java runtime, the dynamic loader and libc, the application's dependencies, resources and
 * classes apart), file modes (java executable, /tmp sticky) and the absence of anything secret (no master key, no
 * admin credentials, no private key file). Runs when {@code -Ddeputy.image.tar=<path>} is given: scripts/test builds
 * the image and runs this class (and checks that it ran).
 */
@EnabledIfSystemProperty(named = "deputy.image.tar", matches = ".+")
class ImageTarballTest {
    static final ObjectMapper JSON = new ObjectMapper();

    record Entry(String name, int mode, long size, char type, String link) {
    }

    @Test
    void configLayersUserEntrypointAndNoSecrets() throws IOException {
        Path tar = Path.of(System.getProperty("deputy.image.tar"));
        Map<String, byte[]> top = new LinkedHashMap<>();
        readTar(Files.newInputStream(tar), (e, in) -> top.put(e.name(), readAll(in)));
        JsonNode manifest = JSON.readTree(top.get("manifest.json")).get(0);
        JsonNode config = JSON.readTree(top.get(manifest.get("Config").asText()));

        JsonNode c = config.get("config");
        assertEquals("65532:65532", c.get("User").asText(), "non-root");
        List<String> entry = new ArrayList<>();
        c.get("Entrypoint").forEach(n -> entry.add(n.asText()));
        assertEquals(DeploymentFilesTest.imageEntrypoint(), entry);
        assertTrue(entry.containsAll(DeploymentFilesTest.memoryDefaults()), "JVM memory flags in the entrypoint");
        List<String> env = new ArrayList<>();
        c.get("Env").forEach(n -> env.add(n.asText()));
        assertTrue(env.contains("DEPUTY_LOG_FORMAT=json"), env.toString());
        assertTrue(env.contains("DEPUTY_DATA_DIR=/var/lib/deputy/data"), env.toString());
        assertTrue(env.contains("DEPUTY_CONFIG_DIR=/etc/deputy"), env.toString());
        for (String s : DeploymentFilesTest.SECRET_VARS) {
            assertFalse(env.stream().anyMatch(v -> v.startsWith(s + "=")), s + " baked into the image");
        }
        assertTrue(c.get("ExposedPorts").has("8080/tcp") && c.get("ExposedPorts").has("8443/tcp"));
        assertEquals("linux", config.get("os").asText());
        assertEquals("amd64", config.get("architecture").asText());

        // the layers, in order: each a gzipped tar
        List<List<Entry>> layers = new ArrayList<>();
        Map<String, Entry> files = new LinkedHashMap<>();
        Map<String, byte[]> small = new LinkedHashMap<>();
        for (JsonNode l : manifest.get("Layers")) {
            List<Entry> entries = new ArrayList<>();
            readTar(new GZIPInputStream(new ByteArrayInputStream(top.get(l.asText()))), (e, in) -> {
                String name = e.name().startsWith("/") ? e.name() : "/" + e.name();
                Entry n = new Entry(name.endsWith("/") && name.length() > 1 ? name.substring(0, name.length() - 1) : name,
                        e.mode(), e.size(), e.type(), e.link());
                entries.add(n);
                files.put(n.name(), n);
                if (n.name().startsWith("/etc/") && e.size() < 65536) {
                    small.put(n.name(), readAll(in));
                }
            });
            layers.add(entries);
        }
        assertTrue(layers.size() >= 4, "base, dependencies, resources and classes apart: " + layers.size() + " layers");
        // the base: a Java runtime, the dynamic loader and libc
        assertExecutable(files, "/opt/java/bin/java");
        assertTrue(files.containsKey("/opt/java/lib/server/libjvm.so"), "libjvm.so");
        assertTrue(files.containsKey("/lib64/ld-linux-x86-64.so.2"), "the dynamic loader");
        assertTrue(files.keySet().stream().anyMatch(f -> f.endsWith("/libc.so.6")), "libc");
        assertTrue(files.keySet().stream().anyMatch(f -> f.endsWith("/libgcc_s.so.1")), "libgcc_s (dlopen-ed)");
        assertEquals(0777, files.get("/tmp").mode() & 0777, "/tmp is writable by the image's user");
        assertFalse(files.keySet().stream().anyMatch(f -> f.endsWith("/libX11.so.6")), "a headless runtime: no X11");
        String passwd = new String(small.get("/etc/passwd"), StandardCharsets.UTF_8);
        assertTrue(passwd.contains("deputy:x:65532:65532:"), passwd);
        // the application, in layers of its own
        assertTrue(files.containsKey("/app/classes/dev/deputy/broker/Application.class"));
        assertTrue(files.containsKey("/app/resources/logback.xml") && files.containsKey("/app/resources/logback-json.xml"));
        assertTrue(files.keySet().stream().anyMatch(f -> f.startsWith("/app/libs/logstash-logback-encoder-")), "dependencies");
        assertTrue(files.containsKey("/app/jib-classpath-file"));
        assertTrue(files.containsKey("/etc/deputy/broker.yml"), "the shipped config tree as a default");
        // nothing secret
        for (String f : files.keySet()) {
            String base = f.substring(f.lastIndexOf('/') + 1);
            assertFalse(base.equals("master.key") || base.equals("admin-credentials.json") || base.endsWith(".key")
                    || base.equals("deputy.mv.db"), "a secret or a data file in the image: " + f);
        }
        for (var e : small.entrySet()) {
            String text = new String(e.getValue(), StandardCharsets.ISO_8859_1);
            assertFalse(text.contains("PRIVATE KEY"), "a private key in " + e.getKey());
        }
    }

    static void assertExecutable(Map<String, Entry> files, String path) {
        Entry e = files.get(path);
        assertTrue(e != null, path + " missing");
        assertEquals(0755, e.mode() & 0777, path + " mode " + Integer.toOctalString(e.mode()));
    }

    static byte[] readAll(InputStream in) {
        try {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A small ustar reader (with PAX and GNU long names), enough for docker-save/OCI tarballs. */
    static void readTar(InputStream raw, BiConsumer<Entry, InputStream> each) throws IOException {
        try (InputStream in = raw) {
            byte[] h = new byte[512];
            String longName = null;
            Map<String, String> pax = Map.of();
            while (in.readNBytes(h, 0, 512) == 512) {
                if (allZero(h)) {
                    break;
                }
                String name = str(h, 0, 100);
                String prefix = str(h, 345, 155);
                if (!prefix.isEmpty()) {
                    name = prefix + "/" + name;
                }
                int mode = (int) octal(h, 100, 8);
                long size = octal(h, 124, 12);
                char type = (char) (h[156] == 0 ? '0' : h[156]);
                String link = str(h, 157, 100);
                byte[] data = in.readNBytes((int) size);
                in.skipNBytes((512 - size % 512) % 512);
                if (type == 'L') {
                    longName = new String(data, StandardCharsets.UTF_8).replace("\0", "");
                    continue;
                }
                if (type == 'x') {
                    pax = parsePax(data);
                    continue;
                }
                if (type == 'g') {
                    continue;
                }
                if (longName != null) {
                    name = longName;
                }
                if (pax.containsKey("path")) {
                    name = pax.get("path");
                }
                if (pax.containsKey("linkpath")) {
                    link = pax.get("linkpath");
                }
                if (pax.containsKey("size")) {
                    size = Long.parseLong(pax.get("size"));
                }
                each.accept(new Entry(name, mode, size, type, link), new ByteArrayInputStream(data));
                longName = null;
                pax = Map.of();
            }
        }
    }

    static Map<String, String> parsePax(byte[] data) {
        Map<String, String> m = new LinkedHashMap<>();
        String s = new String(data, StandardCharsets.UTF_8);
        int i = 0;
        while (i < s.length()) {
            int sp = s.indexOf(' ', i);
            if (sp < 0) {
                break;
            }
            int len = Integer.parseInt(s.substring(i, sp));
            String rec = new String(data, 0, data.length, StandardCharsets.UTF_8).substring(sp + 1, i + len - 1);
            int eq = rec.indexOf('=');
            m.put(rec.substring(0, eq), rec.substring(eq + 1));
            i += len;
        }
        return m;
    }

    static boolean allZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    static String str(byte[] b, int off, int len) {
        int end = off;
        while (end < off + len && b[end] != 0) {
            end++;
        }
        return new String(b, off, end - off, StandardCharsets.UTF_8);
    }

    static long octal(byte[] b, int off, int len) {
        String s = str(b, off, len).trim();
        return s.isEmpty() ? 0 : Long.parseLong(s, 8);
    }
}
