# gnuplot script for `make demo`: LS latency per wrk window over time, the
# three phases shaded, colod's actions marked. Variables come from demo.py
# (-e): datafile, actfile, outfile, kinds (space-separated action kinds),
# p1s p1e p2s p2e p3s p3e (phase spans, s), agent_t (colod started, s; < 0:
# not run), nacts.

set terminal pngcairo size 1280,720 font "sans,11"
set output outfile

set title "make demo: nginx (LS) latency per 2 s wrk window; ffmpeg (BE) in phases 2 and 3"
set xlabel "seconds since the demo's start"
set ylabel "LS latency per window (ms, log scale)"
set logscale y
set grid ytics mytics xtics lc rgb "#dddddd"
set key top left opaque box
set y2range [0:1]
unset y2tics

set object 1 rect from p1s, graph 0 to p1e, graph 1 fc rgb "#e8f4e8" fs solid 1.0 noborder behind
set object 2 rect from p2s, graph 0 to p2e, graph 1 fc rgb "#f8e4e4" fs solid 1.0 noborder behind
set label 1 "LS alone" at (p1s + p1e) / 2, graph 0.96 center font "sans,12"
set label 2 "LS + BE, no colod" at (p2s + p2e) / 2, graph 0.96 center font "sans,12"
if (p3e > p3s) {
	set object 3 rect from p3s, graph 0 to p3e, graph 1 fc rgb "#e4ecf8" fs solid 1.0 noborder behind
	set label 3 "LS + BE, colod" at (p3s + p3e) / 2, graph 0.96 center font "sans,12"
}
if (agent_t >= 0) {
	set arrow 1 from agent_t, graph 0 to agent_t, graph 1 nohead dt 2 lc rgb "#3050a0"
	set label 4 "colod started" at agent_t, graph 0.05 right offset -0.5,0 textcolor rgb "#3050a0"
}

sel(p, c) = (strcol(4) eq p) ? column(c) : 1/0
ypos(i) = 0.90 - 0.045 * i

plot datafile using 1:(sel("ls_alone", 3)) with linespoints lw 2 pt 7 ps 0.7 lc rgb "#c03030" title "p99", \
     datafile using 1:(sel("ls_be", 3)) with linespoints lw 2 pt 7 ps 0.7 lc rgb "#c03030" notitle, \
     datafile using 1:(sel("ls_be_colod", 3)) with linespoints lw 2 pt 7 ps 0.7 lc rgb "#c03030" notitle, \
     datafile using 1:(sel("ls_alone", 2)) with linespoints lw 2 pt 5 ps 0.6 lc rgb "#303030" title "p50", \
     datafile using 1:(sel("ls_be", 2)) with linespoints lw 2 pt 5 ps 0.6 lc rgb "#303030" notitle, \
     datafile using 1:(sel("ls_be_colod", 2)) with linespoints lw 2 pt 5 ps 0.6 lc rgb "#303030" notitle, \
     for [i = 1:words(kinds)] actfile using 1:(strcol(2) eq word(kinds, i) ? ypos(i) : 1/0) \
	axes x1y2 with points pt (i + 7) ps 1.2 lw 1.5 title sprintf("colod: %s", word(kinds, i))
