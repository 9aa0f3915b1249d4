"""lmerTest and pbkrtest for lmer fits, by stage: ``varpar`` (the deviance in (θ, σ), its
Hessian and the Jacobian of cov(β̂), numDeriv's Richardson extrapolation) → ``satterthwaite``
and ``kenward_roger`` (denominator df, pbkrtest's adjusted covariance) → ``contrasts`` (the
hypotheses of type I, II, III; ``cells``: type III's full dummy coding rdX and its cross
products) → ``contest`` (t and F tests of contrasts) → ``anova``,
``summary`` and ``broom`` (lmerTest's tables and printouts) → ``model`` (the drop-in fit class
of :mod:`rmodels.lmerTest`).
"""
