package ferry.checksum;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** Fresh MD5 and SHA-256 digests, copied from ready ones: a copy costs less than a provider lookup on a hot path. */
public final class Digests {
    private static final MessageDigest MD5 = lookUp("MD5");
    private static final MessageDigest SHA_256 = lookUp("SHA-256");

    private Digests() {}

    public static MessageDigest md5() {
        return copy(MD5);
    }

    public static MessageDigest sha256() {
        return copy(SHA_256);
    }

    private static MessageDigest lookUp(String algorithm) {
        try {
            return MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new ExceptionInInitializerError("this JDK has no " + algorithm + ": " + e);
        }
    }

    private static MessageDigest copy(MessageDigest prototype) {
        try {
            return (MessageDigest) prototype.clone();
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException(prototype.getAlgorithm() + " of this JDK cannot be copied", e);
        }
    }
}
