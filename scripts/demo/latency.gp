# gnuplot script for `make demo` (run by scripts/demo/demo.py).
#
# Top panel: nginx (LS) p99 and p50 per wrk window, log scale.
# Bottom panel: CPU cores used per window by LS, BE and the load generator,
# the BE CPU limit colod set (steps), colod's actions (marks at their time).
# The four phases are shaded in both.
#
# Variables (-e): datafile, actfile, limitfile, outfile, kinds (action kinds,
# space-separated), ncpu, window (s), agent_t (colod started, s; < 0: not
# run), agent_e (colod stopped, s): the loop's agent, p1s p1e ... p4s p4e
# (phase spans, s since the demo's start; phase 3 is the static lever's).

set terminal pngcairo size 1280,860 font "sans,11" noenhanced
set output outfile
set multiplot title sprintf("make demo: nginx (LS) with ffmpeg (BE) on %d CPUs; one point per %d s wrk window", ncpu, window)

L = 0.07; R = 0.78
set lmargin at screen L
set rmargin at screen R
xmax = (p4e > p4s ? p4e : p2e)
xmax = (agent_e > xmax ? agent_e : xmax) + 1
set xrange [0:xmax]
set grid xtics ytics lc rgb "#dddddd"

shade(n, a, b, c) = sprintf("set object %d rect from %f, graph 0 to %f, graph 1 fc rgb '%s' fs solid 1.0 noborder behind", n, a, b, c)
eval shade(1, p1s, p1e, "#e8f4e8")
eval shade(2, p2s, p2e, "#f8e4e4")
if (p3e > p3s) { eval shade(3, p3s, p3e, "#f4f0dc") }
if (p4e > p4s) { eval shade(4, p4s, p4e, "#e4ecf8") }
if (agent_t >= 0) {
	set arrow 1 from agent_t, graph 0 to agent_t, graph 1 nohead dt 2 lc rgb "#3050a0"
}

sel(p, c) = (strcol(4) eq p) ? column(c) : 1/0

# ---- top: latency
set tmargin at screen 0.93
set bmargin at screen 0.40
set format x ""
set ylabel "LS latency per window (ms, log)"
set logscale y
set grid mytics
set key at screen 0.99, graph 1 right top vertical Left reverse samplen 2
set label 11 "LS alone" at (p1s + p1e) / 2, graph 0.95 center font "sans,12"
set label 12 "LS + BE, no colod" at (p2s + p2e) / 2, graph 0.95 center font "sans,12"
if (p3e > p3s) { set label 13 "LS + BE, colod static" at (p3s + p3e) / 2, graph 0.95 center font "sans,12" }
if (p4e > p4s) { set label 15 "LS + BE, colod" at (p4s + p4e) / 2, graph 0.95 center font "sans,12" }
if (agent_t >= 0) { set label 14 "colod started" at agent_t, graph 0.05 right offset -0.5,0 textcolor rgb "#3050a0" }

plot datafile using 1:(sel("ls_alone", 3)) with linespoints lw 2 pt 7 ps 0.7 lc rgb "#c03030" title "p99", \
     datafile using 1:(sel("ls_be", 3)) with linespoints lw 2 pt 7 ps 0.7 lc rgb "#c03030" notitle, \
     datafile using 1:(sel("ls_be_static", 3)) with linespoints lw 2 pt 7 ps 0.7 lc rgb "#c03030" notitle, \
     datafile using 1:(sel("ls_be_colod", 3)) with linespoints lw 2 pt 7 ps 0.7 lc rgb "#c03030" notitle, \
     datafile using 1:(sel("ls_alone", 2)) with linespoints lw 2 pt 5 ps 0.6 lc rgb "#303030" title "p50", \
     datafile using 1:(sel("ls_be", 2)) with linespoints lw 2 pt 5 ps 0.6 lc rgb "#303030" notitle, \
     datafile using 1:(sel("ls_be_static", 2)) with linespoints lw 2 pt 5 ps 0.6 lc rgb "#303030" notitle, \
     datafile using 1:(sel("ls_be_colod", 2)) with linespoints lw 2 pt 5 ps 0.6 lc rgb "#303030" notitle

# ---- bottom: CPU and colod's actions
unset label
unset logscale y
unset grid
set grid xtics ytics lc rgb "#dddddd"
set tmargin at screen 0.36
set bmargin at screen 0.08
set format x "%g"
set xlabel "seconds since the demo's start"
set ylabel "CPU cores"
set yrange [0:ncpu * 1.15]
set ytics 0.5
apos(i) = ncpu * (1.12 - 0.05 * i)

plot datafile using 1:(sel("ls_alone", 6)) with linespoints lw 2 pt 7 ps 0.5 lc rgb "#c03030" title "LS (nginx) used", \
     datafile using 1:(sel("ls_be", 6)) with linespoints lw 2 pt 7 ps 0.5 lc rgb "#c03030" notitle, \
     datafile using 1:(sel("ls_be_static", 6)) with linespoints lw 2 pt 7 ps 0.5 lc rgb "#c03030" notitle, \
     datafile using 1:(sel("ls_be_colod", 6)) with linespoints lw 2 pt 7 ps 0.5 lc rgb "#c03030" notitle, \
     datafile using 1:(sel("ls_be", 7)) with linespoints lw 2 pt 9 ps 0.7 lc rgb "#208020" title "BE (ffmpeg) used", \
     datafile using 1:(sel("ls_be_static", 7)) with linespoints lw 2 pt 9 ps 0.7 lc rgb "#208020" notitle, \
     datafile using 1:(sel("ls_be_colod", 7)) with linespoints lw 2 pt 9 ps 0.7 lc rgb "#208020" notitle, \
     datafile using 1:(sel("ls_alone", 8)) with linespoints lw 1 pt 1 ps 0.5 lc rgb "#808080" title "load generator used", \
     datafile using 1:(sel("ls_be", 8)) with linespoints lw 1 pt 1 ps 0.5 lc rgb "#808080" notitle, \
     datafile using 1:(sel("ls_be_static", 8)) with linespoints lw 1 pt 1 ps 0.5 lc rgb "#808080" notitle, \
     datafile using 1:(sel("ls_be_colod", 8)) with linespoints lw 1 pt 1 ps 0.5 lc rgb "#808080" notitle, \
     limitfile using 1:2 with steps lw 2 dt 2 lc rgb "#3050a0" title "BE CPU limit set by colod", \
     for [i = 1:words(kinds)] actfile using 1:(strcol(2) eq word(kinds, i) ? apos(i) : 1/0) \
	with points pt (i + 5) ps 1.0 lw 1.5 lc i title sprintf("colod: %s", word(kinds, i))

unset multiplot
