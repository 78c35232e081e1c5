package dev.deputy.broker;

import io.micronaut.core.io.scan.DefaultClassPathResourceLoader;

import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.util.Optional;
import java.util.jar.JarEntry;

/**
 * The class path resource loader of the broker's environment (application.yml and the other property sources):
 * Micronaut's own, except that a file inside a jar is read through the JVM's jar handling. Micronaut's loader opens
 * a zip file system on the whole jar for every such read to tell a directory from a file (it indexes the shaded
 * jar's ~43,000 entries each time, then closes it: ~8% of a start for application.yml alone); the jar entry says
 * the same. Directories, paths with {@code ..}, missing resources and anything not in a jar go to Micronaut's loader.
 */
final class JarResourceLoader extends DefaultClassPathResourceLoader {
    JarResourceLoader(ClassLoader classLoader) {
        super(classLoader);
    }

    @Override
    public Optional<InputStream> getResourceAsStream(String path) {
        String p = path;
        if (p != null && p.startsWith("classpath:")) {
            p = p.substring("classpath:".length());
        }
        if (p == null || p.isEmpty() || p.startsWith("/") || p.endsWith("/") || p.contains("..") || p.contains("\\")) {
            return super.getResourceAsStream(path);
        }
        URL url = getClassLoader().getResource(p);
        if (url != null && "jar".equals(url.getProtocol())) {
            try {
                JarURLConnection jar = (JarURLConnection) url.openConnection();
                JarEntry entry = jar.getJarEntry();
                if (entry != null && !entry.isDirectory()) {
                    return Optional.of(jar.getInputStream());
                }
            } catch (IOException | ClassCastException e) {
                // Micronaut's loader decides, as without this
            }
        }
        return super.getResourceAsStream(path);
    }
}
