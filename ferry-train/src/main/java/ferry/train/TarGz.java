package ferry.train;

import ferry.store.PassedOver;
import ferry.store.local.LocalStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

/**
 * Packs a folder as a gzip-compressed POSIX (ustar) tar, as SageMaker packs {@code model.tar.gz}: entries named
 * relative to the folder ({@code model.pth}, {@code sub/}), in name order, with their modes and times. Names or
 * sizes that ustar cannot hold (longer than 100 + 155 characters, 8 GiB and more) get a PAX extended header,
 * which GNU tar and Python's tarfile read. Symbolic links are stored as links; named pipes, sockets and devices
 * are left out, each one named to the caller.
 */
final class TarGz {
    private static final int BLOCK = 512;
    private static final long USTAR_MAX_SIZE = 077777777777L;

    private TarGz() {}

    /**
     * Writes the folder's contents to {@code out}, which is finished but not closed, and hands each entry it left out
     * to {@code leftOut}. Returns the bytes of input.
     */
    static long write(Path folder, OutputStream out, Consumer<PassedOver> leftOut) throws IOException {
        GZIPOutputStream gzip = new GZIPOutputStream(out, 64 * 1024);
        long total = 0;
        List<Path> entries = new ArrayList<>();
        if (Files.isDirectory(folder)) {
            try (Stream<Path> walk = Files.walk(folder)) {
                walk.filter(p -> !p.equals(folder)).forEach(entries::add);
            }
        }
        entries.sort((a, b) -> folder.relativize(a).toString().compareTo(folder.relativize(b).toString()));
        for (Path entry : entries) {
            String name = folder.relativize(entry).toString();
            BasicFileAttributes attributes = Files.readAttributes(entry, BasicFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS);
            int mode = mode(entry, attributes);
            long mtime = attributes.lastModifiedTime().toMillis() / 1000;
            if (attributes.isSymbolicLink()) {
                header(gzip, name, '2', 0, mode, mtime, Files.readSymbolicLink(entry).toString());
            } else if (attributes.isDirectory()) {
                header(gzip, name + "/", '5', 0, mode, mtime, "");
            } else if (attributes.isRegularFile()) {
                long size = attributes.size();
                header(gzip, name, '0', size, mode, mtime, "");
                long copied;
                try (InputStream in = Files.newInputStream(entry)) {
                    copied = in.transferTo(gzip);
                }
                if (copied != size) {
                    throw new IOException(entry + " changed size while it was packed (" + size + " then " + copied
                            + " bytes): is the process that writes it still running?");
                }
                pad(gzip, size);
                total += size;
            } else {
                leftOut.accept(new PassedOver(name, LocalStore.kind(entry)));
            }
        }
        gzip.write(new byte[2 * BLOCK]); // two zero blocks end the archive
        gzip.finish();
        return total;
    }

    private static int mode(Path entry, BasicFileAttributes attributes) {
        try {
            Set<PosixFilePermission> permissions = Files.readAttributes(entry, PosixFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS).permissions();
            int mode = 0;
            for (PosixFilePermission permission : permissions) {
                mode |= 1 << (8 - permission.ordinal());
            }
            return mode;
        } catch (IOException | UnsupportedOperationException e) {
            return attributes.isDirectory() ? 0755 : 0644;
        }
    }

    private static void header(OutputStream out, String name, char type, long size, int mode, long mtime,
            String link) throws IOException {
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        byte[] linkBytes = link.getBytes(StandardCharsets.UTF_8);
        String prefix = "";
        String shortName = name;
        boolean pax = size > USTAR_MAX_SIZE || linkBytes.length > 100 || !isAscii(name) || !isAscii(link);
        if (nameBytes.length > 100) {
            int split = splitPoint(name);
            if (split < 0) {
                pax = true;
                shortName = truncate(name, 100);
            } else {
                prefix = name.substring(0, split);
                shortName = name.substring(split + 1);
            }
        }
        if (pax) {
            StringBuilder records = new StringBuilder();
            records.append(record("path", name));
            if (!link.isEmpty()) {
                records.append(record("linkpath", link));
            }
            if (size > USTAR_MAX_SIZE) {
                records.append(record("size", Long.toString(size)));
            }
            byte[] data = records.toString().getBytes(StandardCharsets.UTF_8);
            out.write(block(truncate("PaxHeaders/" + shortName, 100), "", 'x', data.length, 0644, mtime, ""));
            out.write(data);
            pad(out, data.length);
            prefix = "";
            shortName = truncate(shortName, 100);
        }
        out.write(block(shortName, prefix, type, Math.min(size, USTAR_MAX_SIZE), mode, mtime, truncate(link, 100)));
    }

    private static byte[] block(String name, String prefix, char type, long size, int mode, long mtime, String link) {
        byte[] header = new byte[BLOCK];
        put(header, 0, 100, name.getBytes(StandardCharsets.UTF_8));
        octal(header, 100, 8, mode);
        octal(header, 108, 8, 0); // uid
        octal(header, 116, 8, 0); // gid
        octal(header, 124, 12, size);
        octal(header, 136, 12, Math.max(0, mtime));
        for (int i = 148; i < 156; i++) {
            header[i] = ' '; // the checksum is computed with its own field as blanks
        }
        header[156] = (byte) type;
        put(header, 157, 100, link.getBytes(StandardCharsets.UTF_8));
        put(header, 257, 6, "ustar\0".getBytes(StandardCharsets.US_ASCII));
        put(header, 263, 2, "00".getBytes(StandardCharsets.US_ASCII));
        put(header, 265, 32, "root".getBytes(StandardCharsets.US_ASCII));
        put(header, 297, 32, "root".getBytes(StandardCharsets.US_ASCII));
        put(header, 345, 155, prefix.getBytes(StandardCharsets.UTF_8));
        long sum = 0;
        for (byte b : header) {
            sum += b & 0xff;
        }
        String checksum = String.format("%06o", sum);
        put(header, 148, 6, checksum.getBytes(StandardCharsets.US_ASCII));
        header[154] = 0;
        header[155] = ' ';
        return header;
    }

    /** A PAX record: "LEN key=value\n", where LEN counts itself. */
    private static String record(String key, String value) {
        int body = key.getBytes(StandardCharsets.UTF_8).length + value.getBytes(StandardCharsets.UTF_8).length + 3;
        int length = body + Integer.toString(body).length();
        if (Integer.toString(length).length() != Integer.toString(body).length()) {
            length++;
        }
        return length + " " + key + "=" + value + "\n";
    }

    /** Where to split a long name into ustar's prefix (up to 155 bytes) and name (up to 100), or -1. */
    private static int splitPoint(String name) {
        if (!isAscii(name)) {
            return -1;
        }
        for (int i = Math.min(name.length() - 1, 155); i > 0; i--) {
            if (name.charAt(i) == '/' && name.length() - i - 1 <= 100 && name.length() - i - 1 > 0) {
                return i;
            }
        }
        return -1;
    }

    private static boolean isAscii(String text) {
        return text.chars().allMatch(c -> c > 0 && c < 128);
    }

    private static String truncate(String text, int bytes) {
        StringBuilder result = new StringBuilder();
        for (int i = 0; i < text.length() && result.length() < bytes; i++) {
            char c = text.charAt(i);
            result.append(c < 128 ? c : '_');
        }
        return result.toString();
    }

    private static void put(byte[] header, int offset, int length, byte[] value) {
        System.arraycopy(value, 0, header, offset, Math.min(length, value.length));
    }

    private static void octal(byte[] header, int offset, int length, long value) {
        String digits = String.format("%0" + (length - 1) + "o", value);
        put(header, offset, length - 1, digits.getBytes(StandardCharsets.US_ASCII));
        header[offset + length - 1] = 0;
    }

    private static void pad(OutputStream out, long size) throws IOException {
        int remainder = (int) (size % BLOCK);
        if (remainder != 0) {
            out.write(new byte[BLOCK - remainder]);
        }
    }
}
