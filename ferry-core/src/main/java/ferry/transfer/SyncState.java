package ferry.transfer;

import ferry.store.Keys;
import ferry.store.local.DurableFiles;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;

/**
 * What the last sync of one source and destination left behind: for each key, the versions of both sides and the
 * CRC32C of the bytes, so that a re-sync decides "unchanged" from two listings without reading any data.
 *
 * <p>The state is a file sorted by key, read as a stream alongside the two listings (bounded memory whatever the
 * number of objects), and rewritten whole, atomically, at the end of a run. Transfers completed during a run are
 * appended to a journal as they finish, so a run killed half way resumes without re-reading what it already
 * moved.
 */
final class SyncState {
    /** One key's recorded versions: source and destination tags (ETags, or size and times locally), CRC32C. */
    record Entry(String key, long size, String sourceTag, String destinationTag, String crc32c) {}

    private static final String HEADER = "# ferry.sync-state/1";

    private final Path folder;
    private final Map<String, Entry> journaled;
    private BufferedWriter journal;
    private BufferedReader stateReader;
    private Entry pending;

    private SyncState(Path folder, Map<String, Entry> journaled) {
        this.folder = folder;
        this.journaled = journaled;
    }

    /** Opens the state in {@code folder}, taking in the journal a crashed run left there. */
    static SyncState open(Path folder) throws IOException {
        Files.createDirectories(folder);
        Map<String, Entry> journaled = new HashMap<>();
        try (BufferedReader in = Files.newBufferedReader(folder.resolve("journal.tsv"), StandardCharsets.UTF_8)) {
            String line;
            while ((line = in.readLine()) != null) {
                Entry entry = parse(line);
                if (entry != null) {
                    journaled.put(entry.key(), entry);
                }
            }
        } catch (NoSuchFileException e) {
            // no crashed run to resume
        }
        SyncState state = new SyncState(folder, journaled);
        try {
            state.stateReader = Files.newBufferedReader(folder.resolve("state.tsv"), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            state.stateReader = null;
        }
        return state;
    }

    /** Every entry of the committed state (not the journal), by key. */
    static Map<String, Entry> readAll(Path folder) throws IOException {
        Map<String, Entry> entries = new HashMap<>();
        try (BufferedReader in = Files.newBufferedReader(folder.resolve("state.tsv"), StandardCharsets.UTF_8)) {
            String line;
            while ((line = in.readLine()) != null) {
                Entry entry = parse(line);
                if (entry != null) {
                    entries.put(entry.key(), entry);
                }
            }
        } catch (NoSuchFileException e) {
            // never synced
        }
        return entries;
    }

    /**
     * The recorded entry for {@code key}, or {@code null}. Keys must be asked for in ascending order: the sorted
     * state file is read forward as they are.
     */
    Entry lookup(String key) throws IOException {
        Entry fromJournal = journaled.get(key);
        while (stateReader != null) {
            if (pending == null) {
                String line = stateReader.readLine();
                if (line == null) {
                    stateReader.close();
                    stateReader = null;
                    break;
                }
                pending = parse(line);
                continue;
            }
            int order = Keys.compare(pending.key(), key);
            if (order < 0) {
                pending = null;
            } else {
                if (order == 0) {
                    Entry found = pending;
                    pending = null;
                    return fromJournal != null ? fromJournal : found;
                }
                break;
            }
        }
        return fromJournal;
    }

    /** Records a finished transfer in the journal, so a crash after this point does not redo it. */
    synchronized void journal(Entry entry) throws IOException {
        if (journal == null) {
            journal = Files.newBufferedWriter(folder.resolve("journal.tsv"), StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
        journal.write(format(entry));
        journal.flush();
    }

    /** Starts the next state file; entries must be written in ascending key order. */
    Output newState() throws IOException {
        return new Output(folder);
    }

    void closeReaders() throws IOException {
        if (stateReader != null) {
            stateReader.close();
            stateReader = null;
        }
        synchronized (this) {
            if (journal != null) {
                journal.close();
                journal = null;
            }
        }
    }

    /** The next state, written beside the current one and moved over it by {@link #commit()}. */
    static final class Output implements AutoCloseable {
        private final Path folder;
        private final Path temp;
        private final Writer out;
        private boolean committed;

        private Output(Path folder) throws IOException {
            this.folder = folder;
            this.temp = folder.resolve("state.tsv.tmp");
            this.out = Files.newBufferedWriter(temp, StandardCharsets.UTF_8);
            out.write(HEADER + "\n");
        }

        void write(Entry entry) throws IOException {
            out.write(format(entry));
        }

        /** Replaces the state with what was written and clears the journal, which it now includes. */
        void commit() throws IOException {
            out.close();
            DurableFiles.flushFile(temp);
            DurableFiles.replace(temp, folder.resolve("state.tsv"));
            Files.deleteIfExists(folder.resolve("journal.tsv"));
            committed = true;
        }

        @Override
        public void close() throws IOException {
            if (!committed) {
                out.close();
                Files.deleteIfExists(temp);
            }
        }
    }

    static String format(Entry e) {
        return escape(e.key()) + '\t' + e.size() + '\t' + escape(e.sourceTag()) + '\t' + escape(e.destinationTag())
                + '\t' + e.crc32c() + '\n';
    }

    /** Parses one line; a line cut short by a crash (or the header) yields {@code null}. */
    static Entry parse(String line) {
        if (line.startsWith("#")) {
            return null;
        }
        String[] fields = line.split("\t", -1);
        if (fields.length != 5 || !fields[4].matches("[0-9a-f]{8}")) {
            return null;
        }
        try {
            return new Entry(unescape(fields[0]), Long.parseLong(fields[1]), unescape(fields[2]), unescape(fields[3]),
                    fields[4]);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** A key or tag on one line: backslash, tab and line breaks escaped (undone by {@link #unescape}). */
    static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r");
    }

    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(++i);
                b.append(switch (n) {
                    case 't' -> '\t';
                    case 'n' -> '\n';
                    case 'r' -> '\r';
                    default -> n;
                });
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
