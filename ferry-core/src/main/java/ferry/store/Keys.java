package ferry.store;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Key order as object stores list them: by UTF-8 bytes, unsigned. Java strings compare by UTF-16 units, which
 * differs above U+FFFF; listings of every backend, and merges of two listings, must agree on one order.
 */
public final class Keys {
    private Keys() {}

    public static int compare(String a, String b) {
        if (isAscii(a) && isAscii(b)) {
            return a.compareTo(b); // same order for ASCII, without encoding
        }
        return Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }

    private static boolean isAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) >= 0x80) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether a key (relative to a listed prefix) lies in a {@code .ferry/} folder, where Ferry keeps its own records
     * in a store (dataset manifests, probes): never data to sync or to put in a dataset.
     */
    public static boolean isFerryRecord(String key) {
        return key.startsWith(".ferry/") || key.contains("/.ferry/");
    }
}
