#!/usr/bin/env python3
# How the change-point penalty of core/src/bench/history.rs was chosen: PELT on the same
# pseudo-random series as its tests (2% of noise), for penalties of 2 (the BIC) to 5 sigma^2 ln n:
# steady series split (false changes) and 10% and 5% steps found. Not run by CI: python3 scripts/pelt-penalty.py
import math
def lcg_series(level,n,seed):
    st=seed; out=[]
    M=2**64
    for _ in range(n):
        s=0.0
        for _ in range(4):
            st=(st*6364136223846793005+1442695040888963407)%M
            s+= (st>>11)/2**53-0.5
        out.append(level*(1+0.035*s))
    return out
def median(v):
    v=sorted(v); n=len(v)
    return v[n//2] if n%2 else (v[n//2-1]+v[n//2])/2
def cps(values,c):
    n=len(values); x=[math.log(v) for v in values]
    d=[abs(x[i]-x[i-1]) for i in range(1,n)]
    sig=median(d)/(0.6745*math.sqrt(2)); pen=c*sig*sig*math.log(n)
    s1=[0]*(n+1); s2=[0]*(n+1)
    for i,v in enumerate(x): s1[i+1]=s1[i]+v; s2[i+1]=s2[i]+v*v
    cost=lambda a,b: max(0,(s2[b]-s2[a])-(s1[b]-s1[a])**2/(b-a))
    best=[math.inf]*(n+1); last=[0]*(n+1); best[0]=-pen; cand=[0]
    for t in range(3,n+1):
        f=math.inf; arg=0
        for tau in cand:
            if t-tau>=3:
                v=best[tau]+cost(tau,t)+pen
                if v<f: f=v; arg=tau
        best[t]=f; last[t]=arg
        cand=[tau for tau in cand if t-tau<3 or best[tau]+cost(tau,t)<=f]
        if t+3<=n: cand.append(t)
    out=[]; t=n
    while t>0:
        tau=last[t]
        if tau>0: out.append(tau)
        t=tau
    return out[::-1]
for c in [2,3,4,5]:
    fp=sum(1 for s in range(1,201) if cps(lcg_series(1000,80,s),c))
    det=0
    for s in range(1,101):
        v=lcg_series(1000,40,2*s)+lcg_series(900,40,2*s+1)
        r=cps(v,c)
        if len(r)==1 and abs(r[0]-40)<=1: det+=1
    det5=0
    for s in range(1,101):
        v=lcg_series(1000,40,2*s)+lcg_series(950,40,2*s+1)
        r=cps(v,c)
        if len(r)==1 and abs(r[0]-40)<=2: det5+=1
    print(c, "false+ of 200:",fp, "10% step found of 100:",det, "5% step:",det5)
