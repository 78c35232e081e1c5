package dev.deputy.broker.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Config trees for tests: a copy of the repository's {@code config/}, or one written file by file. */
public final class ConfigFixture {
    private final Path root;

    private ConfigFixture(Path root) {
        this.root = root;
    }

    /** An empty tree at {@code dir}; add files with {@link #broker} and {@link #tenant}. */
    public static ConfigFixture at(Path dir) {
        return new ConfigFixture(dir);
    }

    /** A copy of the shipped {@code config/} tree (tenant {@code demo}), so its files are checked too. */
    public static Path copyOfShipped(Path dir) {
        Path shipped = shipped();
        try (Stream<Path> all = Files.walk(shipped)) {
            for (Path p : all.toList()) {
                Path target = dir.resolve(shipped.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir;
    }

    /** The repository's {@code config/} (Surefire runs in {@code broker/}). */
    public static Path shipped() {
        for (Path p : new Path[]{Path.of("../config"), Path.of("config")}) {
            if (Files.isRegularFile(p.resolve("broker.yml"))) {
                return p.toAbsolutePath().normalize();
            }
        }
        throw new IllegalStateException("cannot find the repository's config/ from " + Path.of("").toAbsolutePath());
    }

    public ConfigFixture broker(String yaml) {
        write(root.resolve("broker.yml"), yaml);
        return this;
    }

    public ConfigFixture tenant(String id, String yaml) {
        write(root.resolve("tenants").resolve(id).resolve("tenant.yml"), yaml);
        return this;
    }

    public Path root() {
        return root;
    }

    public static Path write(Path file, String content) {
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, content);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
