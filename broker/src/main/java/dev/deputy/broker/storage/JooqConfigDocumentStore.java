package dev.deputy.broker.storage;

import dev.deputy.broker.config.ConfigDocumentStore;
import jakarta.inject.Singleton;
import org.jooq.Field;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

import static dev.deputy.broker.storage.jooq.Tables.CONFIG_DOCUMENTS;

/** Applied tenant files; a row failing its master-key MAC ({@link SealedRows}) is left out (and reported). */
@Singleton
class JooqConfigDocumentStore implements ConfigDocumentStore {
    private final Database db;
    private final SealedRows sealed;

    JooqConfigDocumentStore(Database db, SealedRows sealed) {
        this.db = db;
        this.sealed = sealed;
    }

    @Override
    public Map<String, String> documents(String tenantId) {
        Map<String, String> out = new TreeMap<>();
        sealed.valid(SealedRows.CONFIG_DOCUMENT, () -> db.read(dsl -> dsl.selectFrom(CONFIG_DOCUMENTS)
                .where(CONFIG_DOCUMENTS.TENANT_ID.eq(tenantId)).fetch())).forEach(r -> out.put(r.getPath(), r.getContent()));
        return out;
    }

    @Override
    public void replace(String tenantId, Map<String, String> documents, long now) {
        db.tx(dsl -> {
            dsl.deleteFrom(CONFIG_DOCUMENTS).where(CONFIG_DOCUMENTS.TENANT_ID.eq(tenantId)).execute();
            for (Map.Entry<String, String> d : documents.entrySet()) {
                Map<Field<?>, Object> row = new LinkedHashMap<>();
                row.put(CONFIG_DOCUMENTS.TENANT_ID, tenantId);
                row.put(CONFIG_DOCUMENTS.PATH, d.getKey());
                row.put(CONFIG_DOCUMENTS.CONTENT, d.getValue());
                row.put(CONFIG_DOCUMENTS.UPDATED_AT, now);
                dsl.insertInto(CONFIG_DOCUMENTS).set(row).set(CONFIG_DOCUMENTS.ROW_MAC, sealed.mac(SealedRows.CONFIG_DOCUMENT, row))
                        .execute();
            }
            return null;
        });
    }
}
