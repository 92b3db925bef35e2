#!/bin/bash
# Plots for models/README.md with gnuplot (gnuplot-nox, pngcairo):
#   scripts/plot-training.sh WORK DESIGN OUT_DIR
# WORK holds DESIGN-log.foldK.csv (per-fold CSV logs) and shipped.conf (the
# pooled cross-validation confusion matrix); OUT_DIR gets training-curves.png
# (from the fold logs and OUT_DIR/training-log.csv, the final model's log)
# and confusion.png.
set -euo pipefail
work=$1
design=$2
out=$3
folds=$(ls "$work/$design"-log.fold*.csv 2> /dev/null | sort -V || true)
final=$out/training-log.csv

plot_loss="" plot_acc="" k=0
for f in $folds; do
    k=$((k + 1))
    plot_loss+="'$f' using 1:3 with lines lc $k dt 2 notitle, '$f' using 1:5 with lines lc $k lw 2 title 'fold $k valid', "
    plot_acc+="'$f' using 1:(100*\$4) with lines lc $k dt 2 notitle, '$f' using 1:(100*\$6) with lines lc $k lw 2 title 'fold $k valid', "
done
if [ -f "$final" ]; then
    plot_loss+="'$final' using 1:3 with lines lc rgb 'black' lw 3 title 'final model (train)'"
    plot_acc+="'$final' using 1:(100*\$4) with lines lc rgb 'black' lw 3 title 'final model (train)'"
fi
gnuplot <<GP
set terminal pngcairo size 1200,500 font 'sans,10'
set output '$out/training-curves.png'
set datafile separator ','
set key autotitle columnhead
set multiplot layout 1,2 title "$design: training curves (dashed: train, solid: held-out fold; batches are augmented/mixed, so train accuracy is on soft targets)"
set xlabel 'epoch'
set ylabel 'cross-entropy'
set grid
plot ${plot_loss%, }
set ylabel 'accuracy %'
set yrange [0:100]
set key bottom right
plot ${plot_acc%, }
unset multiplot
GP

conf=$work/shipped.conf
labels=$(head -1 "$conf" | sed 's/.*predicted://')
n=$(echo $labels | wc -w)
tics="" i=0
for l in $labels; do tics+="'$l' $i, "; i=$((i + 1)); done
gnuplot <<GP
set terminal pngcairo size 760,680 font 'sans,10'
set output '$out/confusion.png'
set title "$design: pooled confusion over the held-out folds (counts)"
set xtics (${tics%, }) rotate by 45 right
set ytics (${tics%, })
set xlabel 'predicted'
set ylabel 'true'
set xrange [-0.5:$n-0.5]
set yrange [$n-0.5:-0.5]
set cbrange [0:*]
set palette defined (0 'white', 1 '#3060c0')
unset key
plot '$conf' matrix with image, \
     '$conf' matrix using 1:2:(\$3 > 0 ? sprintf('%d', \$3) : '') with labels
GP
echo "wrote $out/training-curves.png $out/confusion.png"
