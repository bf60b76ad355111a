package dev.consort.database;

import java.security.SecureRandom;
import java.util.UUID;

/**
 * UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then randomness. Ids sort by creation
 * time, so cursor pagination can page on the id alone and the primary-key index stays append-mostly.
 */
public final class TimeOrderedIds {

    private static final SecureRandom RANDOM = new SecureRandom();

    private TimeOrderedIds() {}

    public static UUID next() {
        long millis = System.currentTimeMillis();
        long randA = RANDOM.nextInt(1 << 12);
        long msb = (millis << 16) | (0x7L << 12) | randA;
        long lsb = (RANDOM.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
        return new UUID(msb, lsb);
    }

    /**
     * The last 8 hex digits of an id, for names and labels people read ({@code finetune-3f9c2a1b-step-100}):
     * random bits, where the leading digits of ids made in the same minute are the same.
     */
    public static String shortForm(UUID id) {
        String text = id.toString();
        return text.substring(text.length() - 8);
    }
}
