package ferry.checksum;

import java.util.HexFormat;
import java.util.zip.CRC32C;

/** CRC32C (Castagnoli) values as Ferry records them: 8 lower-case hex digits. */
public final class Crc32c {
    private Crc32c() {}

    public static String hex(long crc) {
        return HexFormat.of().toHexDigits((int) crc);
    }

    public static String of(byte[] bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes);
        return hex(crc.getValue());
    }
}
