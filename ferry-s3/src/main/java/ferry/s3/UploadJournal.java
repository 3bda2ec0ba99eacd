package ferry.s3;

import ferry.store.local.DurableFiles;
import ferry.store.local.WriterMark;
import java.io.IOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The multipart uploads this host has under way, one small file each under {@code $FERRY_HOME/uploads}, named by
 * the writing process. An upload is recorded when it starts and forgotten when it completes or is aborted; one
 * whose process is gone (killed half way) is aborted by the next Ferry that writes, so a crash never leaks the
 * parts' storage.
 */
final class UploadJournal {
    /** One upload left behind by a process that no longer runs. */
    record Orphan(Path file, String bucket, String key, String uploadId) {}

    /** The last line of an entry whose key is URL-encoded (entries written before it hold the key as it is). */
    private static final String URL_ENCODED_KEY = "key-encoding=url";

    private final Path folder;
    private final String endpoint;

    /** A journal under {@code folder} of the uploads at {@code endpoint}. */
    UploadJournal(Path folder, String endpoint) {
        this.folder = folder;
        this.endpoint = endpoint;
    }

    /**
     * Records an upload that just started; returns its entry, to {@link #forget} when it ends. Named
     * {@code <pid>@<host>-<random>.upload} (see {@link WriterMark}), it holds bucket, key (URL-encoded), upload id and
     * endpoint.
     */
    Path record(String bucket, String key, String uploadId) throws IOException {
        Files.createDirectories(folder);
        Path entry = folder.resolve(WriterMark.writer() + "-" + WriterMark.random() + ".upload");
        Path temp = folder.resolve(entry.getFileName() + ".tmp");
        // A key may hold line breaks: it is written URL-encoded, as the last line says.
        Files.writeString(temp, bucket + "\n" + URLEncoder.encode(key, StandardCharsets.UTF_8) + "\n" + uploadId
                + "\n" + endpoint + "\n" + URL_ENCODED_KEY + "\n", StandardCharsets.UTF_8);
        DurableFiles.flushFile(temp); // after a power cut the upload is still known, so aborted, not leaked
        DurableFiles.replace(temp, entry);
        return entry;
    }

    void forget(Path entry) throws IOException {
        Files.deleteIfExists(entry);
    }

    /**
     * The uploads at this journal's endpoint whose writing process is gone. Another host's are left to it, and
     * uploads at another endpoint to a run against that one.
     */
    List<Orphan> orphans() throws IOException {
        List<Orphan> orphans = new ArrayList<>();
        if (!Files.isDirectory(folder)) {
            return orphans;
        }
        // An entry still under its temporary name was written by a process killed before moving it into place:
        // its upload had been started by then.
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(folder, "*.{upload,upload.tmp}")) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                int dash = name.indexOf('-');
                if (dash < 0 || WriterMark.of(name.substring(0, dash), name.substring(dash + 1))
                        != WriterMark.Writer.GONE) {
                    continue;
                }
                List<String> lines = Files.readAllLines(entry, StandardCharsets.UTF_8);
                if (lines.size() >= 4 && !lines.get(3).equals(endpoint)) {
                    continue;
                }
                boolean whole = lines.size() >= (name.endsWith(".tmp") ? 4 : 3); // the upload id's line is complete
                if (whole) {
                    boolean encoded = lines.size() >= 5 && lines.get(4).equals(URL_ENCODED_KEY);
                    String key = encoded ? URLDecoder.decode(lines.get(1), StandardCharsets.UTF_8) : lines.get(1);
                    orphans.add(new Orphan(entry, lines.get(0), key, lines.get(2)));
                } else {
                    // Cut short by the crash itself: without its upload id there is nothing to abort with.
                    Files.deleteIfExists(entry);
                }
            }
        }
        return orphans;
    }
}
