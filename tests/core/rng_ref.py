# Independent Python model of prefrec_rng seeding (splitmix64 -> xoshiro256**), used to
# produce the expected values in test_rng.c: python3 tests/core/rng_ref.py
M=(1<<64)-1
def sm(st):
    st=(st+0x9E3779B97F4A7C15)&M; z=st
    z=((z^(z>>30))*0xBF58476D1CE4E5B9)&M
    z=((z^(z>>27))*0x94D049BB133111EB)&M
    return st, z^(z>>31)
def rotl(x,k): return ((x<<k)|(x>>(64-k)))&M
class X:
    def __init__(s,seed,stream):
        st=stream; st,h=sm(st); smv=seed^h; s.s=[]
        for i in range(4): smv,o=sm(smv); s.s.append(o)
    def u64(s):
        a=s.s; r=(rotl((a[1]*5)&M,7)*9)&M; t=(a[1]<<17)&M
        a[2]^=a[0]; a[3]^=a[1]; a[1]^=a[2]; a[0]^=a[3]; a[2]^=t; a[3]=rotl(a[3],45); return r
    def below(s,n):
        th=((1<<32)-n)%n
        while True:
            x=s.u64()>>32
            if x>=th: return x%n
for seed,stream in [(42,0),(42,1),(0,0),(2022,7)]:
    x=X(seed,stream); print(seed,stream,[hex(x.u64()) for _ in range(4)])
x=X(7,3); print('below', [x.below(10) for _ in range(12)])
x=X(7,3); print('dbl', [ (x.u64()>>11)*2.0**-53 for _ in range(3)])
