"""``easylm-commit report``: lm-eval result files -> the paper's Table 2 (Markdown, CSV, PNG)."""

HELP = "turn lm-eval results into the paper's Table 2 (Markdown, CSV, PNG)"


def add_arguments(parser):
    parser.add_argument("results", nargs="+", metavar="RESULTS.json",
                        help="result files written by easylm-commit eval (or lm_eval)")
    parser.add_argument("--names", nargs="+", default=None, metavar="NAME",
                        help="one row name per results file (default: the model directory's "
                             "name from the file, else the file name)")
    parser.add_argument("--out-dir", required=True,
                        help="where to write table2.md, table2.csv and table2_em.png")


def run(args):
    from easylm_commit.errors import UserError
    from easylm_commit.eval.report import collect, markdown_tables, write_report

    names = args.names or [None] * len(args.results)
    if len(names) != len(args.results):
        raise UserError(
            f"--names gives {len(names)} names for {len(args.results)} results files"
        )
    entries = collect(list(zip(args.results, names)))
    paths = write_report(entries, args.out_dir)
    if not args.quiet:
        print(markdown_tables(entries))
        print("wrote " + ", ".join(str(p) for p in paths))
    return 0
