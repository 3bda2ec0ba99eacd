package ferry.checksum;

import java.util.HexFormat;
import java.util.zip.CRC32C;

/** CRC32C (Castagnoli) values as Ferry records them: 8 lower-case hex digits. */
public final class Crc32c {
    private Crc32c() {}

    public static String hex(long crc) {
        return HexFormat.of().toHexDigits((int) crc);
    }

    /**
     * The CRC32C of {@code A || B} from the CRC32C of A, the CRC32C of B and B's length, without the bytes: how a
     * whole object is checked from chunks fetched separately. Polynomial arithmetic over GF(2) in the reflected
     * bit order java.util.zip.CRC32C uses: shift A's CRC by B's length in bits, then add B's.
     */
    public static int combine(int crcA, int crcB, long lengthB) {
        if (lengthB < 0) {
            throw new IllegalArgumentException("negative length " + lengthB);
        }
        return multiply(xPow8n(lengthB), crcA) ^ crcB;
    }

    private static final int POLY = 0x82f63b78; // reflected Castagnoli polynomial; x^0 is the top bit
    /** X_POW_2K[k] = x^(2^k) mod POLY. */
    private static final int[] X_POW_2K = new int[64];

    static {
        int p = 1 << 30; // x^1
        for (int k = 0; k < X_POW_2K.length; k++) {
            X_POW_2K[k] = p;
            p = multiply(p, p);
        }
    }

    /** a * b mod POLY. */
    private static int multiply(int a, int b) {
        int product = 0;
        for (int bit = 1 << 31; bit != 0; bit >>>= 1) {
            if ((a & bit) != 0) {
                product ^= b;
            }
            b = (b & 1) != 0 ? (b >>> 1) ^ POLY : b >>> 1;
        }
        return product;
    }

    /** x^(8n) mod POLY: the factor that moves a CRC past n zero bytes. */
    private static int xPow8n(long n) {
        int p = 1 << 31; // x^0
        for (int k = 3; n != 0; n >>>= 1, k++) {
            if ((n & 1) != 0) {
                p = multiply(X_POW_2K[k & 63], p);
            }
        }
        return p;
    }

    public static String of(byte[] bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes);
        return hex(crc.getValue());
    }
}
