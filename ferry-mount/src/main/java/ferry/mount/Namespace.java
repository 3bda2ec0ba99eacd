package ferry.mount;

import java.io.IOException;
import java.util.List;

/**
 * The tree a mount shows, addressed by FUSE paths ({@code /} is the root, {@code /a/b.jpg} a file below it).
 * A dataset version answers from its manifest; a prefix from folder listings kept for a metadata TTL.
 */
interface Namespace {
    /** The node at {@code path}, or {@code null} if there is none. */
    Node lookup(String path) throws IOException;

    /** The children of the folder at {@code path}, in name order, or {@code null} if it is not a folder. */
    List<Node> children(String path) throws IOException;

    /** Whether the tree can never change: then the kernel may keep its pages and attributes indefinitely. */
    boolean immutable();

    /** What the mount holds, for {@code statfs}: the total size of a dataset version, 0 when unknown. */
    long totalBytes();

    /** The object at {@code path} is not what was listed: forget the listing of its folder. */
    default void changed(String path) {}

    /** Splits {@code /a/b/c} into the folder path {@code /a/b} and the name {@code c}. */
    static String parent(String path) {
        int slash = path.lastIndexOf('/');
        return slash <= 0 ? "/" : path.substring(0, slash);
    }

    static String child(String folder, String name) {
        return folder.equals("/") ? "/" + name : folder + "/" + name;
    }

    /**
     * Whether a key's segment can be a file name: not empty, not {@code .} or {@code ..}, at most 255 bytes.
     * Keys with other segments (possible in S3, {@code a//b}) are left out of the tree.
     */
    static boolean isValidName(String name) {
        return !name.isEmpty() && !name.equals(".") && !name.equals("..") && name.indexOf('\0') < 0
                && name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length <= 255;
    }
}
