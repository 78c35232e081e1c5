package dev.deputy.broker.support;

import io.micronaut.context.env.PropertySourceLoader;
import io.micronaut.core.io.service.MicronautMetaServiceLoaderUtils;
import io.micronaut.core.io.service.SoftServiceLoader;
import io.micronaut.inject.BeanDefinitionReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ServiceIndexTest {
    /** The test class path mixes directories (target/classes) and jars: the index must list what Micronaut's walk lists. */
    @Test
    void listsWhatMicronautsScanListsOnTheTestClassPath() throws IOException {
        ClassLoader cl = getClass().getClassLoader();
        Map<String, Set<String>> ours = sorted(ServiceIndex.micronautServices(cl));
        Map<String, Set<String>> micronaut = sorted(MicronautMetaServiceLoaderUtils.findAllMicronautMetaServices(cl));
        assertEquals(micronaut, ours);
        // not vacuous: the broker's own bean definitions are among them
        assertTrue(ours.get(BeanDefinitionReference.class.getName()).stream().anyMatch(n -> n.startsWith("dev.deputy.broker.")));
    }

    @Test
    void standardServicesAreTheJdkServiceLoadersList() {
        ClassLoader cl = getClass().getClassLoader();
        Set<String> jdk = ServiceLoader.load(PropertySourceLoader.class, cl).stream().map(p -> p.type().getName())
                .collect(Collectors.toCollection(TreeSet::new));
        assertFalse(jdk.isEmpty());
        assertEquals(jdk, new TreeSet<>(ServiceIndex.standardServices(cl, PropertySourceLoader.class.getName())));
    }

    /** Jar and directory roots with the awkward cases: hidden files, deeper paths, a type with no entries. */
    @Test
    void jarAndDirectoryRootsWithHiddenAndNestedEntries(@TempDir Path tmp) throws IOException {
        List<String> entries = List.of("java.util.List/java.util.ArrayList", "java.util.List/.hidden",
                "java.util.List/com.example.Missing", "java.util.List/java.lang.Integer",
                "java.util.Map/java.util.HashMap", "deep/er/than.two", "java.util.Set/");
        Path jar = tmp.resolve("services.jar");
        try (var out = new JarOutputStream(Files.newOutputStream(jar))) {
            out.putNextEntry(new JarEntry("META-INF/micronaut/"));
            for (String e : entries) {
                out.putNextEntry(new JarEntry("META-INF/micronaut/" + e));
                out.closeEntry();
            }
            out.putNextEntry(new JarEntry("META-INF/services/java.util.List"));
            out.write("# comment\n java.util.LinkedList  # trailing\n\njava.util.ArrayList\n".getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
        }
        Path dir = tmp.resolve("dir");
        Files.createDirectories(dir.resolve("META-INF/micronaut/java.util.List"));
        Files.createDirectories(dir.resolve("META-INF/micronaut/java.util.Deque"));
        Files.createFile(dir.resolve("META-INF/micronaut/java.util.List/java.util.Vector"));
        Files.createFile(dir.resolve("META-INF/micronaut/java.util.List/.DS_Store"));
        Files.createFile(dir.resolve("META-INF/micronaut/java.util.Deque/java.util.ArrayDeque"));
        try (var cl = new URLClassLoader(new URL[]{jar.toUri().toURL(), dir.toUri().toURL()}, null)) {
            Map<String, Set<String>> ours = sorted(ServiceIndex.micronautServices(cl));
            assertEquals(sorted(MicronautMetaServiceLoaderUtils.findAllMicronautMetaServices(cl)), ours);
            // in a jar a dot file is listed (then fails to load), in a directory it is skipped: as Micronaut does
            assertEquals(Set.of("java.util.ArrayList", ".hidden", "java.util.Vector", "com.example.Missing",
                    "java.lang.Integer"), ours.get("java.util.List"));
            assertEquals(Set.of("er"), ours.get("deep"));
            assertEquals(Set.of("java.util.HashMap"), ours.get("java.util.Map"));

            // the loader: standard list first, then Micronaut's; a missing class and one without a public no-argument
            // constructor are skipped (as Micronaut's scan skips them), the rest are instantiated
            Map<String, SoftServiceLoader.StaticServiceLoader<?>> loaders = ServiceIndex.loaders(cl);
            assertTrue(loaders.containsKey("java.util.List"));
            List<String> names = loaders.get("java.util.List").findAll(n -> true).map(d -> d.getName()).toList();
            assertEquals(List.of("java.util.LinkedList", "java.util.ArrayList", "java.lang.Integer", "java.util.Vector"),
                    names);
            List<?> made = loaders.get("java.util.List").load(n -> !n.equals("java.util.Vector"), null);
            assertEquals(2, made.size());
            assertInstanceOf(java.util.LinkedList.class, made.get(0));
            assertInstanceOf(java.util.ArrayList.class, made.get(1));
            // a name nobody registered: an empty list, not a scan
            assertEquals(List.of(), loaders.get("com.example.Nothing").load(n -> true, null));
        }
    }

    @Test
    void offSwitchLeavesMicronautToScan() {
        String before = System.getProperty("deputy.service-index");
        System.setProperty("deputy.service-index", "false");
        try {
            assertFalse(new ServiceIndex().load().getServiceLoaders().containsKey(BeanDefinitionReference.class.getName()));
        } finally {
            if (before == null) {
                System.clearProperty("deputy.service-index");
            } else {
                System.setProperty("deputy.service-index", before);
            }
        }
        assertTrue(new ServiceIndex().load().getServiceLoaders().containsKey(BeanDefinitionReference.class.getName()));
    }

    private static Map<String, Set<String>> sorted(Map<String, Set<String>> m) {
        Map<String, Set<String>> out = new HashMap<>();
        // a service directory with nothing in it lists nothing either way
        m.forEach((k, v) -> {
            if (!v.isEmpty()) {
                out.put(k, new TreeSet<>(v));
            }
        });
        return out;
    }
}
