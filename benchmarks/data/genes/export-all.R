# Writes all.csv.gz, the gene-expression table of `scripts/select-genes.sh`,
# from Debian's Bioconductor package of the ALL data (no network beyond the
# package archive):
#
#   apt-get install -y r-bioc-all && Rscript export-all.R
#
# One row per patient (128), the label columns bt (B or T cell) and mol_biol
# (molecular subtype, "/" written as "-") first, then one column per probe
# set (12,625, log2 RMA expression rounded to 4 decimals).
suppressMessages(library(ALL))
data(ALL)
labels <- data.frame(bt = substr(as.character(ALL$BT), 1, 1),
                     mol_biol = gsub("/", "-", as.character(ALL$mol.biol)))
table <- data.frame(labels, t(round(exprs(ALL), 4)), check.names = FALSE)
out <- gzfile("all.csv.gz", "w")
write.csv(table, out, row.names = FALSE, quote = FALSE)
close(out)
