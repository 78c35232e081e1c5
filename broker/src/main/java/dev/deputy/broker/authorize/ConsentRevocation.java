package dev.deputy.broker.authorize;

import dev.deputy.broker.agent.AgentStore;
import dev.deputy.broker.agent.Resource;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditEvent.Outcome;
import dev.deputy.broker.audit.AuditTransactions;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.grant.refresh.RefreshToken;
import dev.deputy.broker.grant.refresh.RefreshTokens;
import jakarta.inject.Singleton;

import java.time.Clock;
import java.util.Optional;

/**
 * Revoking what a user granted, for the admin API and the account page alike: a stored consent goes, and with it
 * every live refresh-token family of that user at that client and resource, and the access tokens those families
 * issued (the revocation fans out to every node through {@code Revocations}). The next authorization asks again;
 * the client's next refresh fails with {@code invalid_grant}.
 */
@Singleton
public class ConsentRevocation {
    private final ConsentStore consents;
    private final RefreshTokens refreshTokens;
    private final AgentStore agents;
    private final AuditTransactions audited;
    private final Clock clock = Clock.systemUTC();

    public ConsentRevocation(ConsentStore consents, RefreshTokens refreshTokens, AgentStore agents,
                             AuditTransactions audited) {
        this.consents = consents;
        this.refreshTokens = refreshTokens;
        this.agents = agents;
        this.audited = audited;
    }

    /** Who revokes: an admin (actor label from the admin API, may be null) or the user on the account page. */
    public record By(String actor, String subject, String subjectIss) {
        public static By admin(String label) {
            return new By(label, null, null);
        }

        public static By user(String userId, String sub, String iss) {
            return new By("user:" + userId, sub, iss);
        }
    }

    /** Removes the consent and kills its families; false when there was no such consent (nothing changes). */
    public boolean revokeConsent(String tenantId, String userId, String clientId, String resourceId, By by,
                                 RequestMeta meta) {
        Optional<Consent> existing = consents.find(tenantId, userId, clientId, resourceId);
        if (existing.isEmpty()) {
            return false;
        }
        String resourceUri = agents.listResources(tenantId).stream().filter(r -> r.id().equals(resourceId))
                .map(r -> Resource.canonical(r.uri())).findFirst().orElse(null);
        boolean removed = audited.run(tenantId, tx -> {
            boolean gone = consents.delete(tenantId, userId, clientId, resourceId);
            if (gone) {
                tx.append(AuditEvent.of(tenantId, EventTypes.CONSENT_REVOKED, Outcome.SUCCESS).subject(by.subject(), by.subjectIss())
                        .client(clientId).resource(resourceUri).request(meta).detail("user_id", userId)
                        .detail("resource_id", resourceId).detail("actor", by.actor()).build());
            }
            return gone;
        });
        if (removed && resourceUri != null) {
            // after the consent row is gone: a refresh racing this sees the family revoked, and no new code is issued
            // without asking again
            int families = refreshTokens.revokeFamilies(tenantId, userId, clientId, resourceUri, clock.millis());
            if (families > 0) {
                audited.run(tenantId, tx -> tx.append(AuditEvent.of(tenantId, EventTypes.TOKEN_REVOKED, Outcome.SUCCESS)
                        .subject(by.subject(), by.subjectIss()).client(clientId).resource(resourceUri).request(meta)
                        .detail("reason", "consent_revoked").detail("user_id", userId).detail("actor", by.actor()).build()));
            }
        }
        return removed;
    }

    /** Ends one live refresh-token family of the user (the account page); false when it is not theirs or not live. */
    public boolean revokeFamily(String tenantId, String userId, String familyId, By by, RequestMeta meta) {
        Optional<RefreshToken> live = refreshTokens.liveFamilies(tenantId, userId, clock.millis()).stream()
                .filter(t -> t.familyId().equals(familyId)).findFirst();
        if (live.isEmpty()) {
            return false;
        }
        refreshTokens.revokeFamily(tenantId, familyId);
        audited.run(tenantId, tx -> tx.append(AuditEvent.of(tenantId, EventTypes.TOKEN_REVOKED, Outcome.SUCCESS)
                .subject(by.subject(), by.subjectIss()).client(live.get().clientId()).resource(live.get().resource())
                .request(meta).detail("reason", "account_page").detail("refresh_family", familyId)
                .detail("user_id", userId).detail("actor", by.actor()).build()));
        return true;
    }
}
