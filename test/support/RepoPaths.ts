/** Files of the repository by their path from its root, whatever folder the test naming them is in. */
import { fileURLToPath } from "node:url"

const root = new URL("../../", import.meta.url)

export const repoPath = (path: string): string => fileURLToPath(new URL(path, root))
