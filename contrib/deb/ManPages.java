import io.bpfcharge.cli.Main;
import picocli.codegen.docgen.manpage.ManPageGenerator;

import java.io.File;

/**
 * Writes an AsciiDoc man page per command (bpfcharge.adoc, bpfcharge-maps.adoc, ...) into the directory
 * given, from the command tree the CLI builds at run time (its subcommands are registered in code, so
 * ManPageGenerator's own main, which reads annotations, would see none). Run by scripts/package as a
 * source file: java -cp bpfcharge.jar:picocli-codegen.jar ManPages.java DIR
 */
class ManPages {
    public static void main(String[] args) throws Exception {
        System.exit(ManPageGenerator.generateManPage(new File(args[0]), null, new boolean[0], true,
                Main.commandLine().getCommandSpec()));
    }
}
