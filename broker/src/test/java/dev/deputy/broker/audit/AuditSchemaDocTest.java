package dev.deputy.broker.audit;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * docs/audit.md's "Detail fields per type" table is {@link AuditSchema}, row for row, so the two cannot drift. On a
 * mismatch the expected table is written to {@code target/audit-detail-fields.md}.
 */
class AuditSchemaDocTest {
    static String kind(AuditSchema.Field f) {
        String k = f.kind().name().toLowerCase(Locale.ROOT);
        if (f.kind() == AuditSchema.Kind.OBJECT || f.kind() == AuditSchema.Kind.OBJECTS) {
            return (f.kind() == AuditSchema.Kind.OBJECTS ? "objects {" : "object {") + f.fields().entrySet().stream().sorted(Map.Entry.comparingByKey())
                    .map(e -> e.getKey() + ": " + kind(e.getValue())).collect(Collectors.joining(", ")) + "}";
        }
        return k;
    }

    static List<String> expectedRows() {
        List<String> rows = new ArrayList<>();
        for (String type : EventTypes.ALL) {
            Map<String, AuditSchema.Field> fields = AuditSchema.fieldsOf(type);
            String cell = fields.isEmpty() ? "—" : fields.entrySet().stream()
                    .map(e -> "`" + e.getKey() + "` " + kind(e.getValue()).replace("|", "\\|"))
                    .collect(Collectors.joining("; "));
            rows.add("| " + type + " | " + cell + " |");
        }
        return rows;
    }

    @Test
    void docsListTheDetailFieldsOfEveryType() throws IOException {
        Path docs = Path.of("..", "docs", "audit.md");
        if (!Files.exists(docs)) {
            docs = Path.of("docs", "audit.md");
        }
        String md = Files.readString(docs);
        int start = md.indexOf("### Detail fields per type");
        List<String> expected = expectedRows();
        if (start < 0) {
            write(expected);
        }
        assertTrue(start >= 0, "docs/audit.md has no '### Detail fields per type' section");
        int end = md.indexOf("\n#", start + 5);
        List<String> documented = md.substring(start, end < 0 ? md.length() : end).lines()
                .filter(l -> l.startsWith("| ") && !l.startsWith("| type ") && !l.startsWith("|---")).toList();
        if (!expected.equals(documented)) {
            write(expected);
        }
        assertEquals(expected, documented, "paste target/audit-detail-fields.md into docs/audit.md");
    }

    static void write(List<String> rows) throws IOException {
        Files.createDirectories(Path.of("target"));
        Files.writeString(Path.of("target", "audit-detail-fields.md"),
                "| type | detail fields (`name` kind) |\n|---|---|\n" + String.join("\n", rows) + "\n");
    }
}
