package ferry.mount;

import ferry.store.ObjectInfo;

/**
 * A file or a folder of the mounted tree.
 *
 * @param name its name in its folder
 * @param object the object a file reads; {@code null} for a folder
 */
record Node(String name, ObjectInfo object) {
    static Node folder(String name) {
        return new Node(name, null);
    }

    boolean isFolder() {
        return object == null;
    }
}
